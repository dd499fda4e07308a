"""The API key file: its format, what it refuses, and rotation without a restart; keys are never shown."""

from __future__ import annotations

import logging
import secrets

import pytest

from api.api_keys import MAX_FILE_BYTES, MIN_KEY_CHARS, ApiKeyFileError, ApiKeys, read_api_keys


def new_key() -> str:
    return secrets.token_urlsafe(32)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def messages(self) -> list[str]:
        return [record.getMessage() for record in self.records]


@pytest.fixture
def key_log():
    # On the logger itself: the service's logging config, if a test applied it, stops "api" propagating.
    logger = logging.getLogger("api.api_keys")
    handler, level = Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def write(path, text: str) -> None:
    # Replaced, not rewritten in place, as a secret mount would: a new inode even within the same second.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def test_one_key_per_line_with_blank_lines_comments_and_spaces_ignored(tmp_path):
    first, second = new_key(), new_key()
    path = tmp_path / "keys"
    path.write_text(f"# clients\n\n  {first}  \r\n# retiring soon\n{second}\n{first}\n", encoding="utf-8")
    keys = ApiKeys(str(path))
    assert keys.count == 2
    assert keys.matches(first.encode())
    assert keys.matches(second.encode())
    assert not keys.matches(new_key().encode())
    assert not keys.matches(first.encode()[:-1])
    assert not keys.matches(b"")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("", "no key in the key file"),
        ("\n# only a comment\n   \n", "no key in the key file"),
        ("a" * (MIN_KEY_CHARS - 1), "line 1: a key of 31 characters; keys must have 32 to 512"),
        ("# ok\n" + "a" * 513, "line 2: a key of 513 characters"),
        ("with space " + "a" * 40, "line 1: not a bearer token"),
        ("#" * MAX_FILE_BYTES + "\n" + "a" * 40, "the key file is larger than 65536 bytes"),
        ('quote"' + "a" * 40, "line 1: not a bearer token"),
    ],
)
def test_an_unusable_file_is_refused_with_the_line_and_the_reason(tmp_path, content, words):
    path = tmp_path / "keys"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ApiKeyFileError, match="^" + words.replace("(", r"\(")):
        read_api_keys(path)
    with pytest.raises(ApiKeyFileError):
        ApiKeys(str(path))


def test_an_error_never_quotes_the_key(tmp_path):
    short = "s3cr3t-but-too-short"
    path = tmp_path / "keys"
    path.write_text(short, encoding="utf-8")
    with pytest.raises(ApiKeyFileError) as raised:
        read_api_keys(path)
    assert short not in str(raised.value)


@pytest.mark.parametrize("make", ["missing", "directory"])
def test_a_missing_or_unreadable_file_is_refused(tmp_path, make):
    path = tmp_path / "keys"
    if make == "directory":
        path.mkdir()  # stat works, reading fails: what an unreadable file looks like to a root process
    with pytest.raises(ApiKeyFileError, match=r"^cannot read the key file: "):
        ApiKeys(str(path))


def test_a_rotated_key_is_used_after_the_check_interval_without_a_restart(tmp_path, key_log):
    old, new = new_key(), new_key()
    path = tmp_path / "keys"
    write(path, old)
    clock = Clock()
    keys = ApiKeys(str(path), check_interval=1.0, clock=clock)
    write(path, new)
    clock.now = 0.5
    assert keys.matches(old.encode()), "the file is not looked at again within the interval"
    assert not keys.matches(new.encode())
    clock.now = 1.0
    assert keys.matches(new.encode())
    assert not keys.matches(old.encode())
    assert f"API keys reloaded from {path}: 1 keys" in key_log.messages


def test_the_secret_mount_swap_of_its_data_link_is_seen(tmp_path):
    # The Secrets Store CSI driver's layout: <file> -> ..data/<file>, ..data -> a timestamped directory,
    # and an update swaps ..data atomically; the path the app was given never changes.
    old, new = new_key(), new_key()
    for version, key in (("..v1", old), ("..v2", new)):
        (tmp_path / version).mkdir()
        (tmp_path / version / "api-keys").write_text(key + "\n", encoding="utf-8")
    (tmp_path / "..data").symlink_to("..v1")
    (tmp_path / "api-keys").symlink_to("..data/api-keys")
    keys = ApiKeys(str(tmp_path / "api-keys"), check_interval=0)
    assert keys.matches(old.encode())
    (tmp_path / "..data_tmp").symlink_to("..v2")
    (tmp_path / "..data_tmp").replace(tmp_path / "..data")
    assert keys.matches(new.encode())
    assert not keys.matches(old.encode())


@pytest.mark.parametrize("breakage", ["deleted", "unreadable", "emptied", "short key"])
def test_a_file_broken_after_start_keeps_the_last_keys_and_warns_once(tmp_path, key_log, breakage):
    key = new_key()
    path = tmp_path / "keys"
    write(path, key)
    keys = ApiKeys(str(path), check_interval=0)
    if breakage == "deleted":
        path.unlink()
    elif breakage == "unreadable":
        path.unlink()
        path.mkdir()
    elif breakage == "emptied":
        write(path, "# all keys removed\n")
    else:
        write(path, "too-short")
    for _ in range(3):
        assert keys.matches(key.encode()), "the last good keys still hold"
        assert not keys.matches(new_key().encode()), "a broken file never opens the door"
    warnings = [record for record in key_log.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1, "one warning per problem, not one per request"
    assert warnings[0].getMessage().startswith(f"API key file {path}: ")
    assert warnings[0].getMessage().endswith("keeping the last 1 keys")


def test_a_file_repaired_after_a_problem_is_used_again(tmp_path, key_log):
    old, new = new_key(), new_key()
    path = tmp_path / "keys"
    write(path, old)
    keys = ApiKeys(str(path), check_interval=0)
    path.unlink()
    assert keys.matches(old.encode())
    write(path, new)
    assert keys.matches(new.encode())
    assert not keys.matches(old.encode())
    assert key_log.messages[-1] == f"API keys reloaded from {path}: 1 keys"
