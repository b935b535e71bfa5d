# The ETL of the Udacity "Scones Unlimited" starter notebook, run as written there (the
# download aside): extract the archive with tarfile, pickle.load(f, encoding='bytes') each
# member, np.dstack the three channels of every bicycle/motorcycle row and plt.imsave it.
#   /usr/bin/python3 notebook_method.py <cifar-100-python.tar.gz> <work dir>
import os
import pickle
import sys
import tarfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

archive, work = os.path.abspath(sys.argv[1]), sys.argv[2]
os.chdir(work)

with tarfile.open(archive, "r:gz") as tar:
    tar.extractall()

with open("./cifar-100-python/meta", "rb") as f:
    dataset_meta = pickle.load(f, encoding="bytes")
with open("./cifar-100-python/test", "rb") as f:
    dataset_test = pickle.load(f, encoding="bytes")
with open("./cifar-100-python/train", "rb") as f:
    dataset_train = pickle.load(f, encoding="bytes")

labels = [dataset_meta[b"fine_label_names"].index(name) for name in (b"bicycle", b"motorcycle")]


def save_images(dataset, path):
    os.makedirs(path, exist_ok=True)
    for row, (filename, label) in enumerate(zip(dataset[b"filenames"], dataset[b"fine_labels"])):
        if label not in labels:
            continue
        img = dataset[b"data"][row]
        target = np.dstack((img[0:1024].reshape(32, 32), img[1024:2048].reshape(32, 32), img[2048:].reshape(32, 32)))
        plt.imsave(path + filename.decode("utf-8"), target)


save_images(dataset_train, "./train/")
save_images(dataset_test, "./test/")
