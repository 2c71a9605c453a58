# Reference answers of course/09_feedforward_network.ipynb (one section per exercise cell id).
# %% c11b-09-ex1
answer = ((6, 5), (16, 3))      # W_2 is n_1 x n_2; x is b x n_0
# %% c11b-09-ex2
def relu_layer_vjp(v_bar, v_prev, W, c):
    z_bar = v_bar * (v_prev @ W + c > 0)
    return v_prev.T @ z_bar, z_bar.sum(axis=0), z_bar @ W.T
