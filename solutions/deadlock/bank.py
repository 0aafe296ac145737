"""Two accounts, two locks, transfers in both directions - without a deadlock.

A transfer must hold both accounts' locks at once (so nobody ever sees the money in flight).
Taking them "source first, then destination" deadlocks as soon as two transfers go in opposite
directions: one holds A and waits for B, the other holds B and waits for A, for ever. The cure
is one global order: every thread takes the lower-numbered account's lock first, so no cycle of
waiting threads can form. Each account's lock is an RLock because transfer() holds it and then
calls withdraw()/deposit(), which take it again.
"""
import threading


class InsufficientFunds(Exception):
    """A withdrawal (or transfer) larger than the balance."""


class Account:
    def __init__(self, number: int, balance: int = 0):
        self.number = number
        self.balance = balance
        self.lock = threading.RLock()  # re-entrant: transfer() holds it, withdraw() takes it again

    def deposit(self, amount: int) -> None:
        with self.lock:
            self.balance += amount

    def withdraw(self, amount: int) -> None:
        with self.lock:
            if amount > self.balance:
                raise InsufficientFunds(
                    f"account {self.number} holds {self.balance}, cannot withdraw {amount}")
            self.balance -= amount


def in_lock_order(*accounts: Account) -> list[Account]:
    """The accounts in the one order every thread takes their locks: by number."""
    return sorted(accounts, key=lambda account: account.number)


def transfer(src: Account, dst: Account, amount: int) -> None:
    """Move `amount` from src to dst, both locks held, taken in the global order."""
    if amount <= 0:
        raise ValueError(f"a transfer moves a positive amount, not {amount}")
    first, second = in_lock_order(src, dst)
    with first.lock, second.lock:  # released in reverse order, also when withdraw() raises
        src.withdraw(amount)
        dst.deposit(amount)


def audit(accounts: list[Account]) -> int:
    """The total of all balances, read while holding every account's lock (in the same
    order), so no transfer is half done while we add up."""
    ordered = in_lock_order(*accounts)
    held = []
    try:
        for account in ordered:
            account.lock.acquire()
            held.append(account)
        return sum(account.balance for account in accounts)
    finally:
        for account in reversed(held):
            account.lock.release()
