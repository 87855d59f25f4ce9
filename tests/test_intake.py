"""Submissions in every form become the one module file, or a clear reason why not."""
import zipfile

import pytest

from autograder.intake.workspace import SubmissionError, collect_files

SOURCE = b"def double(x):\n    return 2 * x\n"


def make_zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_py_file_of_any_name(tmp_path):
    path = tmp_path / "alice_final_v2.py"
    path.write_bytes(SOURCE)
    assert collect_files(path, "toy.py") == {"toy.py": SOURCE}


def test_folder_takes_only_the_module_ignoring_hidden_and_extra_files(tmp_path):
    (tmp_path / "sub" / "__MACOSX").mkdir(parents=True)
    (tmp_path / "sub" / "toy.py").write_bytes(SOURCE)
    (tmp_path / "sub" / "__MACOSX" / "toy.py").write_bytes(b"junk")
    (tmp_path / "sub" / "conftest.py").write_bytes(b"import os; os._exit(0)")
    assert collect_files(tmp_path / "sub", "toy.py") == {"toy.py": SOURCE}


def test_zip_with_the_module_in_a_folder(tmp_path):
    path = make_zip(tmp_path / "s.zip", {"alice/toy.py": SOURCE, "alice/notes.txt": b"hi"})
    assert collect_files(path, "toy.py") == {"toy.py": SOURCE}


@pytest.mark.parametrize("members, reason", [
    ({}, "the zip is empty"),
    ({"other.py": SOURCE}, "no toy.py in the zip (found: other.py)"),
    ({"a/toy.py": SOURCE, "b/toy.py": SOURCE}, "several toy.py files in the zip"),
])
def test_bad_zips(tmp_path, members, reason):
    with pytest.raises(SubmissionError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        collect_files(make_zip(tmp_path / "s.zip", members), "toy.py")


def test_corrupt_zip(tmp_path):
    path = tmp_path / "s.zip"
    path.write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(SubmissionError, match="the zip cannot be read"):
        collect_files(path, "toy.py")


def test_missing_file_in_folder_names_what_was_found(tmp_path):
    (tmp_path / "Toy.py").write_bytes(SOURCE)
    with pytest.raises(SubmissionError, match=r"no toy.py in the folder \(found: Toy.py\)"):
        collect_files(tmp_path, "toy.py")


@pytest.mark.parametrize("name, reason", [("toy.txt", "unsupported file type '.txt'"),
                                          ("toy.ipynb", "toy.ipynb is not a valid notebook: broken JSON at line 1")])
def test_unsupported_types(tmp_path, name, reason):
    path = tmp_path / name
    path.write_bytes(SOURCE)
    with pytest.raises(SubmissionError, match=reason):
        collect_files(path, "toy.py")


def test_empty_file(tmp_path):
    path = tmp_path / "toy.py"
    path.write_bytes(b"\n  \n")
    with pytest.raises(SubmissionError, match="toy.py is empty"):
        collect_files(path, "toy.py")
