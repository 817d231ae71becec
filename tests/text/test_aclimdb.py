import shutil

import numpy as np
import pytest

from kerasopt.text.aclimdb import load_aclimdb
from kerasopt.text.review_corpus import write_aclimdb


@pytest.fixture(scope="module")
def acl_folder(tmp_path_factory):
    return write_aclimdb(
        tmp_path_factory.mktemp("acl") / "aclImdb", n_train=120, n_test=60, seed=0, n_unsup=7
    )


def _files(root, part):
    return {
        f.read_text(encoding="utf-8"): int(f.parent.name == "pos")
        for f in (root / part).glob("*/*.txt")
        if f.parent.name in ("neg", "pos")
    }


def test_load_aclimdb_reads_every_labeled_review_and_ignores_unsup(acl_folder):
    data = load_aclimdb(acl_folder)
    assert data.describe()["sizes"] == {"train": 108, "val": 12, "test": 60}
    train = _files(acl_folder, "train")
    loaded = dict(zip(data.texts_train, data.y_train.tolist(), strict=True))
    loaded.update(zip(data.texts_val, data.y_val.tolist(), strict=True))
    assert loaded == train  # Labels: neg -> 0, pos -> 1; no train/unsup text.
    assert dict(zip(data.texts_test, data.y_test.tolist(), strict=True)) == _files(
        acl_folder, "test"
    )
    assert all(isinstance(t, str) for t in data.texts_test) and data.texts_test.dtype == object
    assert any("<br /><br />" in t for t in data.texts_train)
    assert data.split["source"] == "aclImdb:aclImdb"


def test_load_aclimdb_is_deterministic_and_accepts_the_parent_folder(acl_folder):
    a = load_aclimdb(acl_folder, max_reviews=50, seed=3)
    b = load_aclimdb(acl_folder.parent, max_reviews=50, seed=3)
    assert list(a.texts_train) == list(b.texts_train)
    assert a.describe()["sizes"] == {"train": 45, "val": 5, "test": 50}
    assert "seed=3" in a.split["train"]
    c = load_aclimdb(acl_folder, max_reviews=50, seed=4)
    assert list(c.texts_test) != list(a.texts_test)
    assert set(a.texts_test) <= set(_files(acl_folder, "test"))


def test_validation_fraction_is_passed_on(acl_folder):
    data = load_aclimdb(acl_folder, validation_fraction=0.25)
    assert len(data.y_val) == 30
    assert abs(data.y_val.mean() - np.mean(list(_files(acl_folder, "train").values()))) < 0.1


def test_missing_subfolder_names_the_path_and_layout(acl_folder, tmp_path):
    broken = tmp_path / "aclImdb"
    shutil.copytree(acl_folder, broken)
    shutil.rmtree(broken / "test" / "pos")
    with pytest.raises(FileNotFoundError, match=r"test/pos'.*\{train,test\}/\{neg,pos\}"):
        load_aclimdb(broken)
    with pytest.raises(FileNotFoundError, match=r"No folder .*nowhere/train/neg"):
        load_aclimdb(tmp_path / "nowhere")


def test_max_reviews_is_checked(acl_folder):
    with pytest.raises(ValueError, match="max_reviews=1"):
        load_aclimdb(acl_folder, max_reviews=1)
