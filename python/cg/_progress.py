"""Progress of long runs: a tqdm bar, a line per step on stderr, or the caller's own callable."""

import sys


def callback(progress, what):
    """The callable the engines call with (step, total, unit, message), or None.

    `progress`: None or False (quiet), True (a tqdm bar when tqdm is installed, else a line on
    stderr per step), or a callable taking (step, total, unit, message).
    """
    if progress is None or progress is False:
        return None
    if callable(progress):
        return progress
    if progress is not True:
        raise TypeError(f"progress: True, False, None or a callable, not {progress!r}")
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Lines(what)
    return _Bar(tqdm, what)


class _Bar:
    def __init__(self, tqdm, what):
        self.tqdm, self.what, self.bar = tqdm, what, None

    def __call__(self, step, total, unit, message):
        if self.bar is None:
            self.bar = self.tqdm(total=total, desc=self.what, unit=unit)
        self.bar.update(step - self.bar.n)
        if message:
            self.bar.set_postfix_str(message, refresh=False)
        if step >= total:
            self.bar.close()


class _Lines:
    def __init__(self, what):
        self.what = what

    def __call__(self, step, total, unit, message):
        print(f"{self.what}: {unit} {step}/{total} {message}".rstrip(), file=sys.stderr)
