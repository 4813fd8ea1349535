"""NTM access (Graves et al. 2014, section 3), one step at a time, for NtmHandComputedTests.

Transcribed from the paper's equations, not from NtmAccess.cs:
  eq. 2  r_t = sum_i w_t(i) M_t(i)
  eq. 3  M~_t(i) = M_{t-1}(i) [1 - w_t(i) e_t]
  eq. 4  M_t(i) = M~_t(i) + w_t(i) a_t
  eq. 5  w^c_t(i) = exp(beta_t K[k_t, M_t(i)]) / sum_j exp(beta_t K[k_t, M_t(j)])
  eq. 6  K[u, v] = u . v / (|u| |v|)
  eq. 7  w^g_t = g_t w^c_t + (1 - g_t) w_{t-1}
  eq. 8  w~_t(i) = sum_j w^g_t(j) s_t(i - j), indices modulo N
  eq. 9  w_t(i) = w~_t(i)^gamma_t / sum_j w~_t(j)^gamma_t
With several write heads, section 3.2: "the erasures can be performed in any order, as
multiplication is commutative", so the erase factors multiply; the adds sum. Every write head
addresses M_{t-1}; the reads address and read the memory those writes produce (MannLab's order).
Head parameters are given after their squashing (beta > 0, g in (0, 1), gamma >= 1, s a
distribution over shifts -S..S, e in (0, 1)); the C# test feeds the access their pre-images.
"""
import math

from refmath import cosine, show, softmax, softplus, weighted_rows


def address(previous, memory, head):
    n = len(memory)
    content = softmax([head["beta"] * cosine(head["key"], memory[i]) for i in range(n)])
    gated = [head["g"] * content[i] + (1 - head["g"]) * previous[i] for i in range(n)]
    shift_range = len(head["s"]) // 2
    s = [0.0] * n  # s as a function of (i - j) mod N
    for k, weight in zip(range(-shift_range, shift_range + 1), head["s"]):
        s[k % n] += weight
    shifted = [sum(gated[j] * s[(i - j) % n] for j in range(n)) for i in range(n)]
    powered = [v ** head["gamma"] for v in shifted]
    return [v / sum(powered) for v in powered]


def step(state, writes, reads):
    memory = state["memory"]
    rows, width = len(memory), len(memory[0])
    write = [address(state["write"][h], memory, head) for h, head in enumerate(writes)]
    erased = []
    for i in range(rows):
        row = []
        for j in range(width):
            factor = 1.0
            for h, head in enumerate(writes):
                factor *= 1 - write[h][i] * head["e"][j]
            row.append(memory[i][j] * factor)
        erased.append(row)
    memory = [[erased[i][j] + sum(write[h][i] * head["a"][j] for h, head in enumerate(writes)) for j in range(width)]
              for i in range(rows)]
    read = [address(state["read"][h], memory, head) for h, head in enumerate(reads)]
    r = [weighted_rows(w, memory) for w in read]
    return r, {"memory": memory, "read": read, "write": write}


def head(key, beta, g, gamma, s, e=None, a=None):
    return {"key": key, "beta": beta, "g": g, "gamma": gamma, "s": s, "e": e, "a": a}


MEMORY0 = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]]


def show_step(test, name, read_name, r, s):
    show(test, f"{name}.WriteWeights", s["write"])
    show(test, f"{name}.Memory", s["memory"])
    show(test, f"{name}.ReadWeights", s["read"])
    show(test, read_name, r)


def one_head_two_steps():
    t = "One_head_two_steps"
    s0 = {"memory": MEMORY0, "write": [[0.1, 0.2, 0.3, 0.4]], "read": [[0.4, 0.3, 0.2, 0.1]]}
    # Shift weightings over -1, 0, +1: the write's leans forward, the read's backward.
    r1, s1 = step(s0,
                  [head([1, 0, 1], 2, 0.75, 2, [1 / 8, 2 / 8, 5 / 8], e=[0.75, 0.5, 0.25], a=[0.5, 0, -0.5])],
                  [head([0, 1, 1], 1, 0.5, 1.5, [5 / 8, 2 / 8, 1 / 8])])
    show_step(t, "s1", "read", r1, s1)
    r2, s2 = step(s1,
                  [head([0, 1, 0], 5, 0.25, 2.5, [1 / 3, 1 / 3, 1 / 3], e=[0.5, 0.5, 0.5], a=[0, 0.8, 0])],
                  [head([1, 1, 0], 2, 0.75, 2, [2 / 8, 5 / 8, 1 / 8])])
    show_step(t, "s2", "read2", r2, s2)


def one_hot(k, n=4):
    return [1.0 if i == k else 0.0 for i in range(n)]


def shift_direction():
    t = "A_shift_on_plus_one_moves_the_focus_to_the_next_slot_and_on_minus_one_to_the_previous"
    previous_only = 1 / (1 + math.exp(50))  # g = sigmoid(-50): the content weights play no part
    forward = softmax([-50, -50, 50])  # the logits' pre-image of all mass on +1
    backward = softmax([50, -50, -50])  # all mass on -1
    gamma = 1 + softplus(-50)
    beta = softplus(0)
    # Two episodes: write focus at slot 1 and at slot 3 (which wraps), read focus at 1 and at 0.
    writes, reads = [], []
    for write_focus, read_focus in [(1, 1), (3, 0)]:
        _, s = step({"memory": MEMORY0, "write": [one_hot(write_focus)], "read": [one_hot(read_focus)]},
                    [head([1, 0, 0], beta, previous_only, gamma, forward, e=[0.5] * 3, a=[0] * 3)],
                    [head([1, 0, 0], beta, previous_only, gamma, backward)])
        writes.append(s["write"])
        reads.append(s["read"])
    show(t, "next.WriteWeights", writes)
    show(t, "next.ReadWeights", reads)


def two_write_heads():
    t = "Two_write_heads_erase_by_the_product_of_their_erase_factors"
    s0 = {"memory": MEMORY0, "write": [[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]],
          "read": [[0.4, 0.3, 0.2, 0.1], [0.7, 0.1, 0.1, 0.1]]}
    r1, s1 = step(s0,
                  [head([1, 0, 0], 3, 0.9, 1.5, [0.1, 0.8, 0.1], e=[0.8, 0.6, 0.4], a=[0.2, -0.2, 0.6]),
                   head([1, 1, 0], 3, 0.6, 2, [0.2, 0.6, 0.2], e=[0.5, 0.9, 0.3], a=[-0.4, 0.3, 0.1])],
                  [head([1, 0, 0.5], 2, 0.5, 1.2, [0.3, 0.5, 0.2]),
                   head([0, 0, 1], 4, 0.8, 3, [0.05, 0.9, 0.05])])
    show_step(t, "s1", "read", r1, s1)


if __name__ == "__main__":
    one_head_two_steps()
    shift_direction()
    two_write_heads()
