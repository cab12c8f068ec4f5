"""Module doc."""
import os

MAX_SIZE = 10


class Foo(object):
    """A foo."""

    attr = 1

    def __init__(self, x):
        self.x = x

    def bar(self, y,
            z=2):
        """Bar does things."""
        inner = 3
        return y + z

    class Nested:
        def deep(self):
            pass


# Top-level helper.
def helper(a, b):
    def local_fn():
        return 1
    return a + b


async def fetch(url: str) -> bytes:
    return b""
