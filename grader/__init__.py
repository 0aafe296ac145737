"""netlab: graded exercises and an autograder for network and concurrency programming."""
__version__ = "0.1.0"
