"""Scalar helpers the reference transcriptions share: plain Python lists, no tensors, no numpy.

Each reference prints one line per checked quantity, "Test: label = v, v, ...", where Test is the
C# test method and label the expression its ShouldBe call checks; check.py compares the two.
"""
import math


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def softplus(x):
    return math.log1p(math.exp(x))


def softmax(xs):
    top = max(xs)
    es = [math.exp(x - top) for x in xs]
    total = sum(es)
    return [e / total for e in es]


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def norm(a):
    return math.sqrt(dot(a, a))


def cosine(a, b, eps=1e-8):
    # The models divide by max(|v|, eps) so that an all-zero slot has similarity 0, not NaN.
    return dot(a, b) / (max(norm(a), eps) * max(norm(b), eps))


def matvec(m, v):
    return [dot(row, v) for row in m]


def weighted_rows(w, rows):
    """sum_i w(i) rows(i): a read (NTM eq. 2, Santoro eq. 4)."""
    return [sum(w[i] * rows[i][j] for i in range(len(rows))) for j in range(len(rows[0]))]


def fmt(v):
    # Six decimals, as the tests quote them; integers and short decimals without trailing zeros.
    s = f"{v:.6f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def flat(x):
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in flat(item)]
    return [x]


def show(test, label, value):
    print(f"{test}: {label} = {', '.join(fmt(v) for v in flat(value))}")
