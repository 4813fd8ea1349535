"""A MANN with a feed-forward controller (Santoro et al. 2016, Table 2's "MANN, feed-forward
controller"), three steps from a fresh memory, for FeedForwardMannHandComputedTests.

Per step t, with every weight given below:
  h_t = relu(W_x [x_t, y_{t-1}] + b_x + W_r r_{t-1})     the controller: no h_{t-1}, unlike an LSTM's
  [k_t, alpha_t] = W_k h_t + b_k; keys tanh(k_t), gates sigmoid(alpha_t), head by head
  r_t from one LRUA step (lrua_reference.step: Santoro et al. eq. 2-8, per-head least-used rule)
  o_t = W_o [h_t, r_t] + b_o                             the output layer's logits
r_t is the heads' reads one after another, r_0 = 0. The memory starts at 1e-6 in every cell (a
direction for the cosine), with zero usage and zero read weights.
"""
import math

from lrua_reference import step
from refmath import matvec, show, sigmoid

HEADS, WIDTH, SLOTS, GAMMA = 2, 2, 4, 0.9
W_X = [[0.5, -0.3, 0.2], [-0.4, 0.6, 0.1]]
B_X = [0.1, -0.2]
W_R = [[0.7, -0.5, 0.2, 0.4], [0.3, 0.8, -0.6, 0.1]]
W_K = [[0.9, -0.2], [0.1, 0.6], [-0.5, 0.3], [0.4, 0.8], [0.7, -0.4], [-0.3, 0.5]]
B_K = [0.05, -0.1, 0.2, 0.0, -0.3, 0.1]
W_O = [[0.3, -0.6, 0.8, 0.2, -0.4, 0.5], [-0.5, 0.4, -0.1, 0.9, 0.6, -0.2]]
B_O = [0.0, 0.1]
INPUTS = [[1, 0, 0], [0, 1, 1], [1, 1, 0]]


def relu(v):
    return [max(0.0, x) for x in v]


def add(*vs):
    return [sum(xs) for xs in zip(*vs)]


def run():
    state = {"memory": [[1e-6] * WIDTH for _ in range(SLOTS)], "read": [[0.0] * SLOTS for _ in range(HEADS)],
             "usage": [0.0] * SLOTS}
    r = [0.0] * (HEADS * WIDTH)
    logits, hidden, usages = [], [], []
    for x in INPUTS:
        h = relu(add(matvec(W_X, x), B_X, matvec(W_R, r)))
        o = add(matvec(W_K, h), B_K)
        keys = [[math.tanh(v) for v in o[hd * WIDTH:(hd + 1) * WIDTH]] for hd in range(HEADS)]
        gates = [sigmoid(v) for v in o[HEADS * WIDTH:]]
        reads, state = step(state, keys, gates, GAMMA, "per-head")
        r = [v for head_read in reads for v in head_read]
        logits.append(add(matvec(W_O, h + r), B_O))
        hidden.append(h)
        usages.append(state["usage"])
    return logits, hidden, usages


if __name__ == "__main__":
    logits, hidden, usages = run()
    t = "One_episode_of_three_steps_from_a_fresh_memory"
    show(t, "logits", logits)
    for k, (h, u) in enumerate(zip(hidden, usages)):
        # Not quoted by the test: what to look at when a logit disagrees.
        print(f"# step {k + 1}: h = {', '.join(f'{v:.6f}' for v in h)}; usage = {', '.join(f'{v:.6f}' for v in u)}")
