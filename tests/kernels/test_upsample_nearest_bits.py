"""UpSampling2D nearest: forward is an exact copy, backward sums each block in a fixed order
(0, then rows ascending, columns ascending) -- checked bit for bit against that order written in
NumPy float32, on odd sizes and factors, on 1 and 2 threads."""

import numpy as np
import pytest

from aenn import _core


@pytest.mark.parametrize("B,H,W,C,sh,sw", [(1, 1, 1, 1, 2, 2), (2, 7, 7, 16, 2, 2), (3, 5, 3, 17, 3, 2),
                                           (1, 14, 14, 16, 2, 2), (2, 3, 4, 5, 1, 3), (1, 2, 9, 3, 2, 1)])
def test_nearest_bits(restore_core, B, H, W, C, sh, sw):
    rng = np.random.default_rng(B * 100 + H)
    x = rng.standard_normal((B, H, W, C)).astype(np.float32)
    dout = rng.standard_normal((B, H * sh, W * sw, C)).astype(np.float32)
    dout[rng.random(dout.shape) < 0.2] = -0.0
    want_out = np.repeat(np.repeat(x, sh, axis=1), sw, axis=2)
    blocks = dout.reshape(B, H, sh, W, sw, C)
    want_dx = np.zeros((B, H, W, C), np.float32)
    for i in range(sh):
        for j in range(sw):
            want_dx = want_dx + blocks[:, :, i, :, j, :]
    for threads in (1, 2):
        _core.set_num_threads(threads)
        out = np.empty_like(want_out)
        _core.upsample_nearest_forward(out, x, sh, sw)
        dx = np.empty_like(x)
        _core.upsample_nearest_backward(dx, dout, sh, sw)
        assert out.tobytes() == want_out.tobytes()
        assert dx.tobytes() == want_dx.tobytes()
