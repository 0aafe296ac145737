"""`grader batch SUBMISSIONS --out OUTDIR --scheduler tls://HOST:PORT`: the same batch, its runs
executed on a dask.distributed cluster instead of this machine's pool of threads.

Only the runs move. Intake, the gradebook, resume and the outputs stay on the instructor's
machine (grader.batch.runner): each run is the same (student, exercise) key, graded on a worker
by the same `_grade` (one run_judge with visibility "all", untrusted), and its record comes back
as the same dict, committed to the gradebook the moment it arrives. A gradebook filled partly
by a local batch and partly by a cluster is one gradebook: either resumes the other.

Workers share no folder with the instructor, so every task carries what it needs:
- the course, once per batch (scattered to the workers): course.yaml, tests/conftest.py and
  tests/<id>/ of the exercises graded, as {relative path: bytes}; never solutions/ nor
  exercises/. A worker writes it into a private (0700) temporary folder, once per worker
  process and course, deleted when the worker closes (a plugin registered by the batch) or its
  process exits normally (a worker killed by a signal can leave that 0700 copy in the temp dir);
- the student's normalised exercise folder, as {relative path: bytes}, written per run into a
  fresh 0700 temporary folder, deleted after the run.
Both are verified on the worker before anything runs: the submission's files against the
digest the gradebook keys the run by, the course against the suite digest (the exercise's
tests and course.yaml entry, the grader's version and the digest of its own code, the
language). A worker with another netlab, or a course that arrived changed, gives an error
record (redone by the next batch), never a grade.

Each run keeps the sandbox of a local batch: the worker must be able to confine student code
(root on Linux with namespaces, isolation mode "jail+uid"). Before the first run every worker
connected is asked; one that cannot confine makes the batch refuse to start (unless
--trust-submission), and a worker that joins later and cannot confine refuses each run it gets
(status "refused": redone next time).

A worker runs whatever its scheduler sends it, as root: beyond loopback the cluster must use
dask's TLS (a CA of the course's own, certificates for the scheduler, each worker and the
client); a tcp:// address that is not loopback is refused unless --insecure-scheduler.
"""
from __future__ import annotations

import atexit
import hashlib
import ipaddress
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import Future
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from .. import procs
from ..course import Course
from ..i18n import Text, say
from . import digest

CONNECT_SECONDS = 30        # reaching the scheduler
WORKERS_SECONDS = 120       # waiting for the first worker to connect


class Refused(Exception):
    """The batch cannot run on this cluster: the message says why and what to do."""

    def __init__(self, message: Text):
        super().__init__(message.render("en"))
        self.message = message


def import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise Refused(say(
            "grader: --scheduler runs the batch on a dask.distributed cluster, and dask.distributed "
            "is not installed here ({why}). Install it with: pip install 'netlab-grader[distributed]' "
            "(the same on every worker host, with the same netlab version).",
            "grader：--scheduler 要在 dask.distributed 集群上运行批量评分，但这里没有安装 dask.distributed"
            "（{why}）。请安装：pip install 'netlab-grader[distributed]'（每台 worker 主机也要安装，"
            "netlab 版本要相同）。", why=str(exc))) from None
    return distributed


# -- the scheduler's address and the security it needs ------------------------------------------

def parse_address(address: str) -> tuple[str, str]:
    """(scheme, host) of tcp://HOST:PORT or tls://HOST:PORT; Refused for anything else."""
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or port == -1 or \
            parts.path not in ("", "/"):
        raise Refused(say(
            "grader: --scheduler takes a dask scheduler's address, tls://HOST:PORT (or tcp:// on "
            "loopback), not {address!r}",
            "grader：--scheduler 需要 dask scheduler 的地址，形如 tls://HOST:PORT（仅在回环地址上可用 "
            "tcp://），而不是 {address!r}", address=address))
    return parts.scheme, parts.hostname


def is_loopback(host: str) -> bool:
    """Only what stays on this machine: 127.0.0.0/8, ::1 and the name localhost. (Any other name
    counts as a network address, whatever it resolves to today.)"""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def security_for(opts, scheme: str, host: str):
    """The dask Security of the client, or None for plain tcp:// (loopback, or allowed)."""
    files = (opts.tls_ca_file, opts.tls_cert, opts.tls_key)
    if scheme == "tcp":
        if any(files):
            raise Refused(say(
                "grader: --tls-ca-file, --tls-cert and --tls-key are for a tls:// scheduler; this "
                "one is {address}", "grader：--tls-ca-file、--tls-cert 和 --tls-key 用于 tls:// 的 "
                "scheduler；这里的地址是 {address}", address=opts.scheduler))
        if not is_loopback(host) and not opts.insecure_scheduler:
            raise Refused(say(
                "refused: {address} is not a loopback address, and tcp:// would send every "
                "submission and grade unencrypted and let anyone who reaches the scheduler run "
                "code on the workers, which run submitted code as root. Use tls:// with "
                "certificates (--tls-ca-file, --tls-cert, --tls-key; the README shows how to make "
                "them), or add --insecure-scheduler on a network you control entirely.",
                "拒绝运行：{address} 不是回环地址，而 tcp:// 会明文传送每份提交和成绩，并且任何能连到 "
                "scheduler 的人都能在 worker 上运行代码，而 worker 以 root 运行提交的代码。请使用带证书的 "
                "tls://（--tls-ca-file、--tls-cert、--tls-key；README 里写了如何生成证书），或者在完全由你"
                "掌控的网络上加 --insecure-scheduler。", address=opts.scheduler))
        return None
    from distributed.security import Security
    if any(files):
        missing = [n for n, f in zip(("--tls-ca-file", "--tls-cert", "--tls-key"), files) if not f]
        unreadable = [f for f in files if f and not os.access(f, os.R_OK)]
        if missing or unreadable:
            raise Refused(say(
                "grader: a tls:// scheduler needs the course's CA certificate and this client's "
                "certificate and key: {what}",
                "grader：tls:// 的 scheduler 需要课程的 CA 证书，以及本客户端的证书和私钥：{what}",
                what=", ".join([*(f"{m} missing" for m in missing), *(f"{f} unreadable" for f in unreadable)])))
        return Security(tls_ca_file=opts.tls_ca_file, tls_client_cert=opts.tls_cert,
                        tls_client_key=opts.tls_key, require_encryption=True)
    sec = Security(require_encryption=True)   # dask's own configuration (distributed.comm.tls.*)
    if not sec.tls_ca_file or not sec.tls_client_cert:
        raise Refused(say(
            "grader: a tls:// scheduler needs --tls-ca-file CA.pem --tls-cert CLIENT.pem "
            "--tls-key CLIENT.key (or dask's distributed.comm.tls configuration)",
            "grader：tls:// 的 scheduler 需要 --tls-ca-file CA.pem --tls-cert CLIENT.pem "
            "--tls-key CLIENT.key（或者 dask 的 distributed.comm.tls 配置）"))
    return sec


# -- what travels with the tasks ----------------------------------------------------------------

def course_files(course: Course, ex_ids: list[str]) -> dict[str, bytes]:
    """What a worker needs to judge these exercises: course.yaml, the tests' conftest and each
    exercise's tests/<id>/ (everything the suite digest covers). No solutions, no stubs."""
    root = course.root
    files = {"course.yaml": (root / "course.yaml").read_bytes(),
             # pytest's rootdir: an ini file of the course, so pytest never looks above it
             "pyproject.toml": b"[tool.pytest.ini_options]\n"}
    conftest = root / "tests" / "conftest.py"
    if conftest.is_file():
        files["tests/conftest.py"] = conftest.read_bytes()
    for ex_id in ex_ids:
        folder = root / "tests" / ex_id
        for path in digest._files(folder):
            files[f"tests/{ex_id}/{path.relative_to(folder).as_posix()}"] = path.read_bytes()
    return files


def folder_files(folder: Path) -> dict[str, bytes]:
    """A normalised exercise folder, as the submission digest sees it."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in digest._files(folder)}


def files_key(files: dict[str, bytes]) -> str:
    h = hashlib.sha256(b"netlab-files-1\0")
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def write_tree(dest: Path, files: dict[str, bytes]) -> None:
    """Write {relative path: bytes} under dest, refusing any path that would leave it."""
    for name, data in files.items():
        rel = PurePosixPath(name)
        if rel.is_absolute() or not rel.parts or any(p in ("", ".", "..") for p in rel.parts) \
                or "\\" in name or "\0" in name:
            raise ValueError(f"refusing the path {name!r}")
        path = dest.joinpath(*rel.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as f:  # never through a link, never over a file already there
            f.write(data)


# -- on a worker ---------------------------------------------------------------------------------

_courses: dict[str, Path] = {}
_courses_lock = threading.Lock()


def _remove_courses() -> None:
    with _courses_lock:
        for root in _courses.values():
            shutil.rmtree(root, ignore_errors=True)
        _courses.clear()


try:
    from distributed.diagnostics.plugin import WorkerPlugin as _Plugin
except ImportError:  # the module is importable without dask (RemotePool says how to get it)
    _Plugin = object


class CleanUp(_Plugin):
    """Registered by each batch: a worker that closes removes its copies of the course."""
    name = "netlab-cleanup"

    def teardown(self, worker) -> None:
        _remove_courses()


def _our_prefix(kind: str) -> str:
    return procs.owned_prefix(kind)


def sweep_stale(folder: Path | None = None) -> list[Path]:
    """Remove the course copies and run folders of worker processes that are gone: a worker
    killed with SIGKILL (or by the OOM killer) runs no atexit and no plugin teardown."""
    return [Path(p) for p in procs.sweep_owned(("course", "run"), str(folder) if folder else None)]


def _course_here(files: dict[str, bytes], key: str) -> Path:
    """This worker's copy of the course (written once per worker process and course)."""
    with _courses_lock:
        root = _courses.get(key)
        if root is None or not root.is_dir():
            if files_key(files) != key:
                raise ValueError("the course arrived changed (its files do not match their digest)")
            if not _courses:
                atexit.register(_remove_courses)
                sweep_stale()  # what killed workers before us left behind
            root = Path(tempfile.mkdtemp(prefix=_our_prefix("course")))
            write_tree(root, files)
            _courses[key] = root
        return root


def probe() -> dict:
    """What the client checks of every worker before the batch: same netlab, can confine."""
    from ..harness import isolation
    digest.grader_source.cache_clear()  # the code a judge will run is the code on disk now
    mode, why = isolation.probe_mode()
    return {"version": digest.grader_version(), "source": digest.grader_source(), "mode": mode,
            "why": why, "host": socket.gethostname(), "python": sys.version.split()[0],
            "platform": sys.platform}


def grade_remote(course: dict[str, bytes], course_key: str, ex_id: str, submission: dict[str, bytes],
                 submission_digest: str, suite_digest: str, grader: tuple[str, str],
                 untrusted: bool, language: str) -> tuple[dict, float]:
    """One run on a worker: the course and the submission written and verified, then the
    local batch's own `_grade` against them; the temporary copy of the submission removed."""
    from .. import course as course_mod
    from .runner import _grade, failed_record, refusal
    started = time.monotonic()
    points = 0
    digest.grader_source.cache_clear()  # the judge runs the code on disk now, not at our start
    try:
        root = _course_here(course, course_key)
        loaded = course_mod.load(root, check_folders=False)
        ex = loaded.exercises[ex_id]
        points = ex.points
        if digest.suite_digest(loaded, ex, language) != suite_digest:
            if (digest.grader_version(), digest.grader_source()) != tuple(grader):
                problem = (f"the worker {socket.gethostname()} runs another netlab "
                           f"({digest.grader_version()}, code {digest.grader_source()[:12]}) than the "
                           f"instructor's ({grader[0]}, code {grader[1][:12]}): install the same on "
                           "every worker")
            else:
                problem = "the course arrived changed on the worker (its suite digest differs)"
            return failed_record(ex_id, points, problem), time.monotonic() - started
        if untrusted:
            why = refusal()
            if why:
                record = failed_record(ex_id, points, f"{socket.gethostname()}: {why}")
                record["status"] = "refused"
                return record, time.monotonic() - started
        work = Path(tempfile.mkdtemp(prefix=_our_prefix("run")))
        try:
            write_tree(work / ex_id, submission)
            if digest.tree_digest(work / ex_id) != submission_digest:
                return failed_record(ex_id, points, "the submission arrived changed on the worker "
                                     "(its files do not match their digest)"), time.monotonic() - started
            record, _ = _grade(loaded, ex_id, work, untrusted, language)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    except Exception as exc:  # noqa: BLE001 - one run's failure never stops the batch
        record = failed_record(ex_id, points, f"the worker {socket.gethostname()} failed to run "
                               f"the judge: {type(exc).__name__}: {exc}")
    return record, time.monotonic() - started


# -- on the instructor's machine -----------------------------------------------------------------

class RemotePool:
    """The batch's runs on a cluster: submit(key, folder) gives a concurrent.futures.Future of
    (record, seconds), like the local pool's; a run the cluster lost is an error record."""

    def __init__(self, opts, course: Course, ex_ids: list[str], *, untrusted: bool, language: str):
        distributed = import_distributed()
        scheme, host = parse_address(opts.scheduler)
        security = security_for(opts, scheme, host)
        self.untrusted = untrusted
        self.language = language
        self.points = {i: course.exercises[i].points for i in ex_ids}
        self.grader = (digest.grader_version(), digest.grader_source())
        try:
            self.client = distributed.Client(opts.scheduler, security=security, timeout=CONNECT_SECONDS,
                                             set_as_default=False)
        except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, TLS errors
            raise Refused(say("grader: could not reach the scheduler at {address}: {why}",
                              "grader：连接不上位于 {address} 的 scheduler：{why}",
                              address=opts.scheduler, why=f"{type(exc).__name__}: {exc}")) from None
        try:
            self._check_workers()
            self.client.register_plugin(CleanUp(), name=CleanUp.name)
            files = course_files(course, ex_ids)
            self.course_key = files_key(files)
            [self.course] = self.client.scatter([files], broadcast=True, hash=False)
        except BaseException:
            self.client.close()
            raise
        self.futures: dict = {}     # distributed future -> ours (kept, or dask forgets the task)
        self.closed = False

    def _check_workers(self) -> None:
        try:
            self.client.wait_for_workers(1, timeout=WORKERS_SECONDS)
        except Exception:  # noqa: BLE001 - dask's TimeoutError
            raise Refused(say("grader: no worker connected to the scheduler at {address} within {s} s",
                              "grader：{s} 秒内没有 worker 连接到位于 {address} 的 scheduler",
                              address=str(self.client.scheduler.address), s=WORKERS_SECONDS)) from None
        found = self.client.run(probe)
        other = {w: p for w, p in found.items() if (p["version"], p["source"]) != self.grader}
        if other:
            w, p = sorted(other.items())[0]
            raise Refused(say(
                "refused: {n} worker(s) run another netlab than this one, e.g. {worker} ({host}): "
                "netlab {theirs}, code {their_code}; here netlab {ours}, code {our_code}. Install "
                "the same netlab on every worker host.",
                "拒绝运行：有 {n} 个 worker 运行的 netlab 与本机不同，例如 {worker}（{host}）："
                "netlab {theirs}，代码 {their_code}；本机 netlab {ours}，代码 {our_code}。请在每台 "
                "worker 主机上安装相同的 netlab。", n=len(other), worker=w, host=p["host"],
                theirs=p["version"], their_code=p["source"][:12], ours=self.grader[0],
                our_code=self.grader[1][:12]))
        weak = {w: p for w, p in found.items() if p["mode"] != "jail+uid"}
        if weak and self.untrusted:
            w, p = sorted(weak.items())[0]
            raise Refused(say(
                "refused: {n} worker(s) cannot confine student code, e.g. {worker} ({host}): "
                "isolation mode '{mode}'{why}. Workers must run as root on Linux with mount and "
                "network namespaces, as a local batch does (start `dask worker` with sudo). If you "
                "trust every submission, add --trust-submission.",
                "拒绝运行：有 {n} 个 worker 无法隔离学生代码，例如 {worker}（{host}）：隔离方式 "
                "'{mode}'{why}。和本机批量评分一样，worker 必须以 root 在支持挂载和网络命名空间的 Linux "
                "上运行（用 sudo 启动 `dask worker`）。如果你信任所有提交，加上 --trust-submission。",
                n=len(weak), worker=w, host=p["host"], mode=p["mode"],
                why=f": {p['why']}" if p["why"] else ""))

    def submit(self, key: tuple[str, str, str, str], folder: Path) -> Future:
        student, ex_id, submission_digest, suite = key
        ours: Future = Future()
        ours.set_running_or_notify_cancel()
        theirs = self.client.submit(
            grade_remote, self.course, self.course_key, ex_id, folder_files(folder / ex_id),
            submission_digest, suite, self.grader, self.untrusted, self.language,
            key=f"netlab-{ex_id}-{uuid.uuid4().hex}", pure=False)
        self.futures[theirs] = ours
        theirs.add_done_callback(lambda f: self._settle(f, ours, ex_id))
        return ours

    def _settle(self, theirs, ours: Future, ex_id: str) -> None:
        if ours.done():
            return
        try:
            if theirs.status == "finished":
                ours.set_result(theirs.result())
                return
            why = f"{type(theirs.exception()).__name__}: {theirs.exception()}" \
                if theirs.status == "error" else theirs.status
        except Exception as exc:  # noqa: BLE001 - cancelled, or the connection is gone
            why = f"{type(exc).__name__}: {exc}"
        ours.set_result((_lost(ex_id, self.points[ex_id], why), 0.0))

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            if cancel_futures and self.futures:
                self.client.cancel(list(self.futures), force=True)
            self.client.close(timeout=10)
        except Exception:  # noqa: BLE001 - closing a client whose scheduler is gone
            pass


def _lost(ex_id: str, points: float, why: str) -> dict:
    from .runner import failed_record
    return failed_record(ex_id, points, f"the cluster lost this run: {why}")
