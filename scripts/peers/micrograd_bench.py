"""Peer benchmark: forward + backward on random scalar DAGs with a micrograd-style pure-Python
autodiff (the `Value` class below follows Karpathy's micrograd engine: one object per scalar, a
closure per operation, topological sort then reverse sweep).

Same workload as crates/autodiff/benches/autodiff.rs: 16 inputs in [-1, 1], then N computed nodes,
each `tanh(a)`, `relu(a)`, `a * b` or `tanh(a + b)` of one or two of the 64 nodes before it.
The engine is written as micrograd's engine.py is (plain objects, op labels, recursive topological
sort). micrograd builds the graph while computing (define-by-run), so one forward pass here includes
building it, as it does for micrograd users. Prints the median of several repetitions in
nanoseconds per graph node, to compare with criterion's figures for `forward_reverse/nodes/N`.

Usage: python3 scripts/peers/micrograd_bench.py [N ...]   (standard library only)
"""

import math
import random
import statistics
import sys
import threading
import time


class Value:
    """Written the way micrograd's engine.py is: no __slots__, an op label, operands wrapped into
    Value when they are plain numbers, tanh from exp, recursive topological sort."""

    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        x = self.data
        t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(0 if self.data < 0 else self.data, (self,), "ReLU")

        def _backward():
            self.grad += (out.data > 0) * out.grad

        out._backward = _backward
        return out


def backward(outputs):
    """micrograd's backward (build_topo, then reverse), seeded at several outputs at once like our
    reverse mode with seeds. build_topo is recursive as in micrograd; deep graphs need a higher
    recursion limit, set in main()."""
    topo, visited = [], set()

    def build_topo(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build_topo(child)
            topo.append(v)

    for root in outputs:
        build_topo(root)
    for root in outputs:
        root.grad = 1
    for v in reversed(topo):
        v._backward()


def structure(n, seed=7, n_sources=16, window=64):
    rng = random.Random(seed)
    sources = [rng.uniform(-1, 1) for _ in range(n_sources)]
    nodes = []
    for k in range(n_sources, n_sources + n):
        lo = max(0, k - window)
        arity = rng.randint(1, min(2, k - lo))
        args = rng.sample(range(lo, k), arity)
        op = rng.randrange(2)
        nodes.append((arity, op, args))
    return sources, nodes


def run(sources, nodes):
    vals = [Value(x) for x in sources]
    has_child = [False] * (len(sources) + len(nodes))
    for arity, op, args in nodes:
        a = vals[args[0]]
        if arity == 1:
            v = a.tanh() if op == 0 else a.relu()
        else:
            b = vals[args[1]]
            v = a * b if op == 0 else (a + b).tanh()
        for i in args:
            has_child[i] = True
        vals.append(v)
    outputs = [v for v, c in zip(vals[len(sources):], has_child[len(sources):]) if not c]
    backward(outputs)


def main():
    sys.setrecursionlimit(10_000_000)
    threading.stack_size(1 << 30)
    t = threading.Thread(target=measure)
    t.start()
    t.join()


def measure():
    sizes = [int(a) for a in sys.argv[1:]] or [1_000, 10_000, 100_000]
    for n in sizes:
        sources, nodes = structure(n)
        reps = max(3, min(20, 200_000 // n))
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            run(sources, nodes)
            times.append(time.perf_counter() - t0)
        ns = statistics.median(times) / n * 1e9
        print(f"micrograd-style forward+backward nodes={n}: {ns:,.0f} ns/node (median of {reps})")


if __name__ == "__main__":
    main()
