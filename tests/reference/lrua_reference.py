"""LRUA (Santoro et al. 2016, section 3.2), one step at a time, for LruaHandComputedTests.

Transcribed from the paper's equations, not from LruaAccess.cs:
  eq. 2  K(k, M(i)) = k . M(i) / (|k| |M(i)|)
  eq. 3  w^r_t(i) = exp K(k_t, M_t(i)) / sum_j exp K(k_t, M_t(j))
  eq. 4  r_t = sum_i w^r_t(i) M_t(i)
  eq. 5  w^u_t = gamma w^u_{t-1} + w^r_t + w^w_t
  eq. 6  w^w_t = sigma(alpha) w^r_{t-1} + (1 - sigma(alpha)) w^lu_{t-1}
  eq. 7  w^lu_t(i) = 0 if w^u_t(i) > m(w^u_t, n) else 1, m(v, n) the n-th smallest element of v
  eq. 8  M_t(i) = M_{t-1}(i) + w^w_t(i) k_t, after zeroing the least-used slot (from w^u_{t-1})
With several heads, eq. 5 and 8 sum over the heads. MannLab's two least-used rules: "literal" is
eq. 7 with n = heads, shared by every head; "per-head" gives head h the h-th least-used slot.
Ties go to the lower slot index, both for the per-head rule and for the slot that is zeroed.
MannLab's extensions: beta scales the similarities before eq. 3's softmax; an add vector a_t
replaces k_t in eq. 8.
"""
import math

from refmath import cosine, sigmoid, show, softmax, softplus, weighted_rows

def least_used(usage, heads, rule):
    """w^lu per head (eq. 7, or the per-head rule)."""
    n = len(usage)
    if rule == "literal":
        m = sorted(usage)[heads - 1]
        row = [1.0 if usage[i] <= m else 0.0 for i in range(n)]
        return [row[:] for _ in range(heads)]
    order = sorted(range(n), key=lambda i: (usage[i], i))
    return [[1.0 if i == order[h] else 0.0 for i in range(n)] for h in range(heads)]


def keep(usage):
    """1 everywhere but the least-used slot, which is zeroed before the next write."""
    lowest = min(range(len(usage)), key=lambda i: (usage[i], i))
    return [0.0 if i == lowest else 1.0 for i in range(len(usage))]


def step(state, keys, gates, gamma, rule, strengths=None, adds=None):
    memory, read_prev, usage_prev = state["memory"], state["read"], state["usage"]
    heads, slots = len(keys), len(memory)
    lu_prev = least_used(usage_prev, heads, rule)
    write = [[gates[h] * read_prev[h][i] + (1 - gates[h]) * lu_prev[h][i] for i in range(slots)] for h in range(heads)]
    written = adds if adds is not None else keys
    zeroed = keep(usage_prev)
    memory = [[zeroed[i] * memory[i][j] + sum(write[h][i] * written[h][j] for h in range(heads))
               for j in range(len(memory[0]))] for i in range(slots)]
    beta = strengths if strengths is not None else [1.0] * heads
    read = [softmax([beta[h] * cosine(keys[h], memory[i]) for i in range(slots)]) for h in range(heads)]
    r = [weighted_rows(read[h], memory) for h in range(heads)]
    usage = [gamma * usage_prev[i] + sum(read[h][i] + write[h][i] for h in range(heads)) for i in range(slots)]
    return r, {"memory": memory, "read": read, "write": write, "usage": usage,
               "least_used": least_used(usage, heads, rule), "keep": keep(usage)}


MEMORY0 = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]]
USAGE0 = [0.5, 0.2, 0.9, 0.2]


def start(read_weights):
    return {"memory": [row[:] for row in MEMORY0], "read": read_weights, "usage": USAGE0[:]}


def show_step(test, name, read_name, r, s, fields, shared_least_used=False):
    labels = {"write": "WriteWeights", "memory": "Memory", "read": "ReadWeights", "usage": "Usage",
              "least_used": "LeastUsed", "keep": "Keep"}
    for f in fields:
        # The literal rule's w^lu is one row shared by every head ([B, 1, N] in the model).
        value = s[f][0] if f == "least_used" and shared_least_used else s[f]
        show(test, f"{name}.{labels[f]}", value)
        if f == "read":
            show(test, read_name, r)


ALL = ["write", "memory", "read", "usage", "least_used", "keep"]


def one_head_literal_rule():
    t = "One_head_literal_rule"
    s0 = start([[0.1, 0.2, 0.3, 0.4]])
    show(t, "state.LeastUsed", least_used(USAGE0, 1, "literal")[0])
    show(t, "state.Keep", keep(USAGE0))
    r1, s1 = step(s0, [[0, 0, 2]], [0.5], 0.5, "literal")
    show_step(t, "s1", "read", r1, s1, ALL, shared_least_used=True)
    r2, s2 = step(s1, [[1, 0, 0]], [0.25], 0.5, "literal")
    show_step(t, "s2", "read2", r2, s2, ["write", "memory", "read", "usage", "least_used"], shared_least_used=True)


def two_heads_per_head_rule():
    t = "Two_heads_per_head_rule"
    s0 = start([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]])
    show(t, "state.LeastUsed", least_used(USAGE0, 2, "per-head"))
    r1, s1 = step(s0, [[0, 0, 2], [1, -1, 0]], [0.5, 0.8], 0.5, "per-head")
    show_step(t, "s1", "read", r1, s1, ALL)
    r2, s2 = step(s1, [[1, 0, 0], [0, 1, 1]], [0.25, 0.1], 0.5, "per-head")
    show_step(t, "s2", "read2", r2, s2, ["write", "memory", "read", "usage", "least_used"])


def at_the_start():
    t = "At_the_start_the_literal_rule_writes_everywhere_and_per_head_writes_to_the_first_slots"
    # The initial usage is zero everywhere: every slot ties.
    show(t, "literal.LeastUsed", least_used([0.0] * 4, 2, "literal")[0])
    show(t, "perHead.LeastUsed", least_used([0.0] * 4, 2, "per-head"))


def learned_key_strength():
    t = "A_learned_key_strength_sharpens_the_read_softmax"
    # Raw controller outputs: key atanh(0.5) in the last place, alpha 0, beta^ = ln(e - 1).
    key = [math.tanh(v) for v in [0, 0, math.atanh(0.5)]]
    beta = 1 + softplus(math.log(math.e - 1))
    r1, s1 = step(start([[0.1, 0.2, 0.3, 0.4]]), [key], [sigmoid(0)], 0.5, "literal", strengths=[beta])
    show_step(t, "s1", "read", r1, s1, ["write", "memory", "read", "usage"])
    _, plain = step(start([[0.1, 0.2, 0.3, 0.4]]), [key], [sigmoid(0)], 0.5, "literal")
    print(f"# {t}: with beta = 1 the read weights would be", ", ".join(f"{v:.6f}" for v in plain["read"][0]))


def add_vector():
    t = "An_add_vector_is_written_instead_of_the_key"
    key = [math.tanh(v) for v in [0, 0, math.atanh(0.5)]]
    add = [math.tanh(v) for v in [math.atanh(0.5), 0, 0]]
    r1, s1 = step(start([[0.1, 0.2, 0.3, 0.4]]), [key], [sigmoid(0)], 0.5, "literal", adds=[add])
    show_step(t, "s1", "read", r1, s1, ["write", "memory", "read", "usage"])


if __name__ == "__main__":
    one_head_literal_rule()
    two_heads_per_head_rule()
    at_the_start()
    learned_key_strength()
    add_vector()
