"""Hostile requests and the answer each must get, built from the model's own feature names and limits.

``status`` None means the client leaves before any answer: then the server must log the request with
the documented 400 for a client that went away (``logged_status``), or nothing if the client left before
its headers were complete, never a 5xx, and keep serving.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from api._http_protocol import MAX_HEAD_BYTES
from api.model import load_model
from api.settings import BUNDLED_MODEL_PATH, Settings
from tests.proofs._raw_http import Pause, chunked, request_head

__all__ = ["Hostile", "catalogue"]

JSON = "application/json"


@dataclass(frozen=True)
class Hostile:
    id: str
    steps: tuple[bytes | Pause, ...]
    status: int | None
    error: str | None = None  # the error code of the JSON error body; None: not the API's own answer
    field: str | None = None  # the field the error names
    closes: bool = False  # the server must close the connection after answering
    why: str = ""
    logged_status: int | None = None  # for a client that leaves: what the server must log (None: nothing)

    @property
    def request_id(self) -> str:
        return f"hostile-{self.id}"


def _post(
    case_id: str, body: bytes, content_type: str | None = JSON, extra: tuple[tuple[str, str], ...] = ()
) -> bytes:
    headers = [("X-Request-ID", f"hostile-{case_id}"), ("Content-Length", str(len(body))), *extra]
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    return request_head("POST", "/predict", headers) + body


def _post_head(case_id: str, headers: tuple[tuple[str, str], ...]) -> bytes:
    return request_head("POST", "/predict", [("X-Request-ID", f"hostile-{case_id}"), *headers])


def catalogue(settings: Settings, predict_path: str) -> list[Hostile]:
    model = load_model(BUNDLED_MODEL_PATH)
    names = model.feature_names
    row = {name: round(mean, 3) for name, mean in zip(names, model.baseline, strict=True)}
    first = names[0]
    limit = settings.max_body_bytes
    ok_body = json.dumps(row).encode()

    def with_value(literal: str | bytes) -> bytes:
        """The valid row with the first feature's value replaced by raw JSON text (or raw bytes)."""
        raw = literal if isinstance(literal, bytes) else literal.encode()
        return json.dumps({**row, first: "@@"}).encode().replace(b'"@@"', raw)

    def case(  # noqa: PLR0913 - one row of the table: id, body, the expected answer, why
        case_id: str, body: bytes, status: int, error: str, field: str, *, why: str, **kw: object
    ) -> Hostile:
        content_type = kw.pop("content_type", JSON)
        return Hostile(case_id, (_post(case_id, body, content_type),), status, error, field, why=why, **kw)  # type: ignore[arg-type]

    deep = 100_000
    # One byte every quarter of the body timeout: each arrives in time, the whole body never does.
    trickle = [step for byte in ok_body for step in (bytes([byte]), Pause(settings.body_timeout_seconds / 4))]
    cases = [
        # ---- numbers
        case("huge-float", with_value("1e999"), 422, "invalid_input", first, why="overflows a double"),
        case(
            "huge-negative-float", with_value("-1e999"), 422, "invalid_input", first, why="overflows a double"
        ),
        case(
            "huge-integer",
            with_value("9" * 400),
            422,
            "invalid_input",
            first,
            why="no double holds 400 digits",
        ),
        case(
            "integer-past-python-digit-limit",
            with_value("9" * 5000),
            422,
            "invalid_input",
            first,
            why="past Python's 4300-digit int conversion limit",
        ),
        case("nan-literal", with_value("NaN"), 422, "invalid_input", first, why="not JSON"),
        Hostile(
            "extreme-but-finite",
            (_post("extreme-but-finite", with_value("1.7976931348623157e308")),),
            200,
            why="the largest double is valid input",
        ),
        # ---- structure
        case("deep-array", b"[" * deep + b"]" * deep, 400, "bad_request", "body", why="nesting too deep"),
        case(
            "deep-object-in-a-feature",
            with_value('{"a":' * deep + "1" + "}" * deep),
            400,
            "bad_request",
            "body",
            why="nesting too deep",
        ),
        case(
            "giant-string-feature",
            with_value(json.dumps("x" * (limit - 1024))),
            422,
            "invalid_input",
            first,
            why="a string where a number belongs, just under the body limit",
        ),
        case(
            "many-unknown-keys",
            json.dumps({**row, **{f"k{i}": 1 for i in range(50_000)}}).encode(),
            422,
            "invalid_input",
            "k0",
            why="the first unknown key is named",
        ),
        case(
            "batch-far-over-the-limit",
            json.dumps({"instances": [row] * (limit // (len(ok_body) + 2) - 10)}).encode(),
            422,
            "invalid_input",
            "instances",
            why=f"more than {settings.max_batch_size} rows",
        ),
        case("empty-object", b"{}", 422, "invalid_input", first, why="every feature is required"),
        # ---- encodings
        case("invalid-utf8", with_value(b'"\xff\xfe"'), 400, "bad_request", "body", why="not UTF-8"),
        case(
            "overlong-utf8",
            with_value(b'"\xc0\xaf"'),
            400,
            "bad_request",
            "body",
            why="overlong encoding of '/'",
        ),
        case(
            "utf16-body",
            ok_body.decode().encode("utf-16"),
            400,
            "bad_request",
            "body",
            why="JSON must be UTF-8",
        ),
        case(
            "utf8-bom",
            b"\xef\xbb\xbf" + ok_body,
            400,
            "bad_request",
            "body",
            why="RFC 8259: no byte order mark",
        ),
        case(
            "nul-bytes", ok_body.replace(b":", b":\x00", 1), 400, "bad_request", "body", why="NUL is not JSON"
        ),
        case(
            "lone-surrogate-key",
            b'{"\\ud800": 1}',
            400,
            "bad_request",
            "body",
            why="not a Unicode scalar value",
        ),
        case("trailing-garbage", ok_body + b"}}}", 400, "bad_request", "body", why="one JSON document only"),
        # ---- content types
        case(
            "text-plain",
            ok_body,
            415,
            "unsupported_media_type",
            "content-type",
            why="JSON only",
            content_type="text/plain",
        ),
        case(
            "xml",
            b"<row/>",
            415,
            "unsupported_media_type",
            "content-type",
            why="JSON only",
            content_type="application/xml",
        ),
        case(
            "multipart",
            b"--x\r\n\r\n1\r\n--x--\r\n",
            415,
            "unsupported_media_type",
            "content-type",
            why="JSON only",
            content_type="multipart/form-data; boundary=x",
        ),
        case(
            "json-lookalike",
            ok_body,
            415,
            "unsupported_media_type",
            "content-type",
            why="not application/json",
            content_type="application/jsonx",
        ),
        case(
            "no-content-type",
            ok_body,
            415,
            "unsupported_media_type",
            "content-type",
            why="JSON only",
            content_type=None,
        ),
        # ---- sizes
        case(
            "oversized-with-length",
            b" " * (limit + 1),
            413,
            "body_too_large",
            "body",
            why="over the limit",
            closes=True,
        ),
        Hostile(
            "oversized-chunked",
            (
                _post_head("oversized-chunked", (("Content-Type", JSON), ("Transfer-Encoding", "chunked")))
                + chunked(b" " * (2 * limit), 65536),
            ),
            413,
            "body_too_large",
            "body",
            closes=True,
            why="no Content-Length: the limit still holds while reading",
        ),
        Hostile(
            "length-claims-a-gigabyte",
            (
                _post_head(
                    "length-claims-a-gigabyte", (("Content-Type", JSON), ("Content-Length", str(1 << 30)))
                ),
            ),
            413,
            "body_too_large",
            "body",
            closes=True,
            why="refused from the header, before any body is read",
        ),
        Hostile(
            "expect-continue-over-limit",
            (
                _post_head(
                    "expect-continue-over-limit",
                    (("Content-Type", JSON), ("Content-Length", str(limit + 1)), ("Expect", "100-continue")),
                ),
            ),
            413,
            "body_too_large",
            "body",
            closes=True,
            why="refused without asking for the body",
        ),
        # ---- slow clients (the server's body timeout is the catalogue's setting)
        Hostile(
            "body-trickled-past-the-timeout",
            (
                _post_head(
                    "body-trickled-past-the-timeout",
                    (("Content-Type", JSON), ("Content-Length", str(len(ok_body)))),
                ),
                *trickle,
            ),
            408,
            "request_timeout",
            "body",
            closes=True,
            why="each byte in time, the whole body not",
        ),
        Hostile(
            "body-stalls-halfway",
            (
                _post("body-stalls-halfway", ok_body)[: -len(ok_body) // 2],
                Pause(settings.body_timeout_seconds * 3),
            ),
            408,
            "request_timeout",
            "body",
            closes=True,
            why="half a body, then nothing",
        ),
        Hostile(
            "chunked-body-stalls",
            (
                _post_head("chunked-body-stalls", (("Content-Type", JSON), ("Transfer-Encoding", "chunked")))
                + chunked(ok_body, 8)[:40],
                Pause(settings.body_timeout_seconds * 3),
            ),
            408,
            "request_timeout",
            "body",
            closes=True,
            why="a chunk, then nothing",
        ),
        # ---- clients that leave
        Hostile(
            "client-leaves-mid-body",
            (_post("client-leaves-mid-body", ok_body + b" " * 100)[:-100],),
            None,
            logged_status=400,
            why="Content-Length promised 100 more bytes",
        ),
        Hostile(
            "client-leaves-mid-chunk",
            (
                _post_head(
                    "client-leaves-mid-chunk", (("Content-Type", JSON), ("Transfer-Encoding", "chunked"))
                )
                + b"100\r\n"
                + ok_body[:20],
            ),
            None,
            logged_status=400,
            why="a chunk of 256 bytes announced, 20 sent",
        ),
        Hostile(
            "client-leaves-after-headers",
            (_post_head("client-leaves-after-headers", (("Content-Type", JSON), ("Content-Length", "50"))),),
            None,
            logged_status=400,
            why="no body at all",
        ),
        Hostile(
            "client-leaves-mid-headers",
            (b"POST /predict HTTP/1.1\r\nHost: proofs\r\nContent-Ty",),
            None,
            why="the head never completes",
        ),
        # ---- header and protocol abuse
        Hostile(
            "enormous-header",
            (request_head("GET", "/health", [("X-Big", "a" * (4 * MAX_HEAD_BYTES))]),),
            431,
            "headers_too_large",
            "headers",
            closes=True,
            why="request head over the ALB's 64K",
        ),
        Hostile(
            "ten-thousand-headers",
            (request_head("GET", "/health", [(f"X-H{i}", "v" * 10) for i in range(10_000)]),),
            431,
            "headers_too_large",
            "headers",
            closes=True,
            why="many small headers add up",
        ),
        Hostile(
            "enormous-url",
            (request_head("GET", "/predict?q=" + "a" * (2 * MAX_HEAD_BYTES)),),
            431,
            "headers_too_large",
            "headers",
            closes=True,
            why="the request line counts toward the head",
        ),
        Hostile(
            "space-in-header-name",
            (request_head("GET", "/health", [("Bad Header", "x")]),),
            400,
            closes=True,
            why="malformed head",
        ),
        Hostile(
            "control-char-in-header",
            (request_head("GET", "/health", [("X-A", "a\x01b")]),),
            400,
            closes=True,
            why="malformed head",
        ),
        Hostile(
            "two-content-lengths",
            (
                _post_head(
                    "two-content-lengths",
                    (("Content-Type", JSON), ("Content-Length", "5"), ("Content-Length", "6")),
                )
                + b"{}",
            ),
            400,
            closes=True,
            why="request smuggling vector",
        ),
        Hostile(
            "length-and-chunked",
            (
                _post_head(
                    "length-and-chunked",
                    (("Content-Type", JSON), ("Content-Length", "5"), ("Transfer-Encoding", "chunked")),
                )
                + b"0\r\n\r\n",
            ),
            400,
            closes=True,
            why="request smuggling vector",
        ),
        Hostile(
            "negative-content-length",
            (_post_head("negative-content-length", (("Content-Type", JSON), ("Content-Length", "-1"))),),
            400,
            closes=True,
            why="malformed length",
        ),
        Hostile(
            "bad-chunk-size",
            (
                _post_head("bad-chunk-size", (("Content-Type", JSON), ("Transfer-Encoding", "chunked")))
                + b"zz\r\n{}\r\n0\r\n\r\n",
            ),
            400,
            closes=True,
            why="malformed chunk",
        ),
        Hostile(
            "not-http",
            (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,),
            400,
            closes=True,
            why="a TLS hello on the plain port",
        ),
        Hostile(
            "unregistered-method",
            (request_head("BREW", predict_path),),
            400,
            closes=True,
            why="the parser (llhttp) knows only registered methods",
        ),
        Hostile(
            "unserved-method",
            (request_head("PROPFIND", predict_path, [("X-Request-ID", "hostile-unserved-method")]),),
            405,
            "method_not_allowed",
            why="a WebDAV method this path does not serve",
        ),
        Hostile(
            "path-traversal",
            (request_head("GET", "/../../etc/passwd", [("X-Request-ID", "hostile-path-traversal")]),),
            404,
            "not_found",
            why="no file serving",
        ),
    ]
    ids = [c.id for c in cases]
    if len(ids) != len(set(ids)):
        msg = "duplicate case ids in the hostile catalogue"
        raise ValueError(msg)
    return cases
