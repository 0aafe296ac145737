"""Two accounts, two locks, transfers in both directions - without a deadlock.

Read README.md in this folder for the whole task, then `grader check deadlock`.
"""
import threading


class InsufficientFunds(Exception):
    """A withdrawal (or transfer) larger than the balance."""


class Account:
    def __init__(self, number: int, balance: int = 0):
        self.number = number
        self.balance = balance
        # TODO: a lock of this account's own, re-entrant: transfer() will hold it and then
        #       call withdraw()/deposit(), which take it again.
        self.lock = None

    def deposit(self, amount: int) -> None:
        """Add amount to the balance, under self.lock."""
        raise NotImplementedError("Account.deposit() is not written yet")

    def withdraw(self, amount: int) -> None:
        """Subtract amount under self.lock; InsufficientFunds (and no change) if it is more
        than the balance."""
        raise NotImplementedError("Account.withdraw() is not written yet")


def transfer(src: Account, dst: Account, amount: int) -> None:
    """Move amount from src to dst, holding both accounts' locks for the whole transfer.

    The naive version below deadlocks as soon as two threads transfer in opposite directions:
        with src.lock:
            with dst.lock:
                src.withdraw(amount)
                dst.deposit(amount)
    """
    # TODO: amount <= 0 -> ValueError (before taking any lock).
    # TODO: take the two locks in ONE global order (lower account number first), whatever the
    #       direction; then src.withdraw(amount) and dst.deposit(amount); release both on
    #       every path, also when withdraw() raises InsufficientFunds.
    raise NotImplementedError("transfer() is not written yet")


def audit(accounts: list[Account]) -> int:
    """The sum of all balances, read while holding every account's lock (in the same order)."""
    raise NotImplementedError("audit() is not written yet")
