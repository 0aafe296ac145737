"""dave's server waits for something that never comes, before it even listens."""
import time

time.sleep(10 ** 6)
