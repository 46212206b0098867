"""Fashion-MNIST, exactly as ``keras.datasets.fashion_mnist.load_data()`` returns it."""

from __future__ import annotations

import os

from . import _cache

SYSTEM_FOLDER = "/usr/share/datasets/fashion-mnist"  # Debian package dataset-fashion-mnist

# SHA-256 of the decompressed IDX files.
IDX_FILES = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


def load_data():
    """Loads Fashion-MNIST (60,000 training and 10,000 test 28x28 images of 10 clothing classes).

    Looks for the four IDX files (``.gz`` or uncompressed) in ``<AENN_DATA_DIR>/fashion-mnist/``
    then in ``/usr/share/datasets/fashion-mnist/`` (Debian/Ubuntu package
    ``dataset-fashion-mnist``); a missing file is downloaded from the Keras mirror into
    ``<AENN_DATA_DIR>/fashion-mnist/``. Every file's decompressed content is SHA-256 checked.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 ``(60000, 28, 28)``, uint8 ``(60000,)``,
        uint8 ``(10000, 28, 28)``, uint8 ``(10000,)``; labels 0-9 (0 T-shirt/top, 1 Trouser,
        2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot).

    Raises:
        FileNotFoundError: a file is missing and could not be downloaded.
        ValueError: a file is corrupted, truncated or fails its checksum.
    """
    folder = os.path.join(_cache.data_dir(), "fashion-mnist")
    return _cache.load_idx_set("Fashion-MNIST", IDX_FILES, [folder, SYSTEM_FOLDER], folder,
                               _cache.KERAS_MIRROR)
