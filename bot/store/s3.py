"""The `s3://bucket/prefix` store, over a boto3 client built in the composition root.

* Small files: one PutObject carrying `ChecksumSHA256` (S3 rejects bytes that do not match).
* Large files: a multipart upload with `ChecksumAlgorithm=CRC32` (every part carries its
  CRC32, as boto3's own `upload_file` sends them). Staging reads the file once, in order,
  hashing all of it as it is read, while the parts go up in parallel; the upload is aborted
  unless the sha256 is the manifest's. Nothing is visible until the commit, which completes
  the upload (atomic) and then compares the object's composite checksum (computed by the
  server from the stored parts) with ours; on any failure the upload is aborted and nothing
  exists under the final key.
* Retries are botocore's standard mode, configured once on the client (`App.s3`): every
  call here is made once and its final error reported; no loop on top.
* Write-once at the server: `IfNoneMatch="*"` on PutObject and CompleteMultipartUpload unless
  overwriting; the index is written with `IfMatch=<etag>` (or `IfNoneMatch="*"` when new).
* The artifact's sha256 is recorded as object metadata (`x-amz-meta-sha256`), which is how a
  later publish compares bytes without downloading them.
* Anonymous: with an unsigned client (the composition root makes one when the credential
  chain has nothing) reads work on a public-read bucket and every write is refused up front.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import threading
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar
from urllib.parse import quote

from botocore import UNSIGNED
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from bot.errors import PublishError
from bot.store.port import Staged, StoredObject, Versioned, mismatch

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import (
        CompletedPartTypeDef,
        CompleteMultipartUploadRequestTypeDef,
        PutObjectRequestTypeDef,
    )

_T = TypeVar("_T")
MIB = 1 << 20
PART_SIZE = 8 * MIB  # S3's minimum is 5 MiB (all but the last part)
CONCURRENCY = 6  # parts in flight at once
CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"}
NO_CREDENTIALS_FIX = ("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a role "
                      "(in Actions: only the publish job gets them)")


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def composite_crc32(parts: list[int]) -> str:
    """S3's COMPOSITE checksum of a multipart object: CRC32 over the parts' CRC32s."""
    return _b64(zlib.crc32(b"".join(p.to_bytes(4, "big") for p in parts)).to_bytes(4, "big"))


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _missing(exc: ClientError) -> bool:
    return _code(exc) in ("404", "NoSuchKey", "NotFound")


def _conflict(exc: ClientError) -> bool:
    return _code(exc) in CONFLICT_CODES or _status(exc) in (409, 412)


def _precondition_failed(exc: ClientError) -> bool:
    return _code(exc) == "PreconditionFailed"


def _never(exc: ClientError) -> bool:
    return False


class S3Store:
    def __init__(self, client: S3Client, bucket: str, prefix: str = "", *,
                 endpoint_url: str | None = None) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        # an unsigned client: built by the composition root when there are no credentials
        self.anonymous = getattr(client.meta.config, "signature_version", None) is UNSIGNED

    # -- naming ----------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def public_url(self, key: str) -> str:
        path = quote(self._key(key))
        if self.endpoint_url:
            return f"{self.endpoint_url.rstrip('/')}/{self.bucket}/{path}"
        region = self.client.meta.region_name
        host = "s3.amazonaws.com" if region in (None, "", "aws-global", "us-east-1") \
            else f"s3.{region}.amazonaws.com"
        return f"https://{self.bucket}.{host}/{path}"

    # -- errors ----------------------------------------------------------------

    def _fail(self, op: str, key: str, exc: Exception) -> NoReturn:
        where = f"s3://{self.bucket}/{self._key(key)}"
        if isinstance(exc, NoCredentialsError):
            raise PublishError(f"no AWS credentials: {NO_CREDENTIALS_FIX}") from None
        if isinstance(exc, ClientError):
            code = _code(exc)
            if self.anonymous and code in ("AccessDenied", "403"):
                raise PublishError(f"no AWS credentials: anonymous S3 {op} of {where} was "
                                   f"denied ({code}); make the bucket public-read (a policy "
                                   "allowing s3:GetObject and s3:ListBucket to everyone) or "
                                   f"{NO_CREDENTIALS_FIX}") from None
            if code == "NoSuchBucket":
                raise PublishError(f"bucket {self.bucket!r} does not exist"
                                   + (f" at {self.endpoint_url}" if self.endpoint_url else "")
                                   + "; create it or fix --store / RELEASE_BOT_STORE") from None
            if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise PublishError(f"S3 {op} of {where} denied ({code}); check the "
                                   "credentials and their bucket policy") from None
            message = exc.response.get("Error", {}).get("Message", "")
            raise PublishError(f"S3 {op} of {where} failed: {code or _status(exc)} {message}; "
                               "retry later or check the store") from None
        raise PublishError(f"S3 {op} of {where} failed after retries ({exc}); check the "
                           "network and AWS_ENDPOINT_URL, then retry") from None

    @contextlib.contextmanager
    def _calling(self, op: str, key: str, *,
                 unless: Callable[[ClientError], bool] = _never) -> Iterator[None]:
        """Errors of the calls in the block as one PublishError; a ClientError that `unless`
        accepts (an answer the caller expects, such as a 404) ends the block silently."""
        try:
            yield
        except ClientError as exc:
            if not unless(exc):
                self._fail(op, key, exc)
        except BotoCoreError as exc:
            self._fail(op, key, exc)

    # -- reads -----------------------------------------------------------------

    def stat(self, key: str) -> StoredObject | None:
        with self._calling("HeadObject", key, unless=_missing):
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return StoredObject(key, int(head["ContentLength"]), head["Metadata"].get("sha256"))
        return None

    def read(self, key: str) -> Versioned | None:
        with self._calling("GetObject", key, unless=_missing):
            got = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            return Versioned(got["Body"].read(), got["ETag"])
        return None

    def download(self, key: str, dest: Path) -> bool:
        with self._calling("GetObject", key, unless=_missing):
            got = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            with contextlib.closing(got["Body"]) as body, dest.open("wb") as fh:
                fh.writelines(body.iter_chunks(MIB))
            return True
        return False

    # -- small writes ----------------------------------------------------------

    def _writable(self, key: str) -> None:
        if self.anonymous:
            raise PublishError(f"no AWS credentials: cannot write s3://{self.bucket}/"
                               f"{self._key(key)} anonymously; {NO_CREDENTIALS_FIX}")

    def _put_object(self, key: str, data: bytes, *, content_type: str,
                    digest: bytes | None = None, metadata: dict[str, str] | None = None,
                    if_match: str | None = None, if_absent: bool = False) -> None:
        """PutObject with its SHA-256 (the server rejects other bytes); raises boto errors."""
        params: PutObjectRequestTypeDef = {
            "Bucket": self.bucket, "Key": self._key(key), "Body": data,
            "ContentType": content_type, "ChecksumAlgorithm": "SHA256",
            "ChecksumSHA256": _b64(digest or hashlib.sha256(data).digest()),
        }
        if metadata:
            params["Metadata"] = metadata
        if if_match is not None:
            params["IfMatch"] = if_match
        if if_absent:
            params["IfNoneMatch"] = "*"
        self.client.put_object(**params)

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        self._writable(key)
        with self._calling("PutObject", key):
            self._put_object(key, data, content_type=content_type)

    def put_if(self, key: str, data: bytes, *, expected: str | None, content_type: str
               ) -> bool:
        self._writable(key)
        with self._calling("PutObject", key, unless=_conflict):
            self._put_object(key, data, content_type=content_type, if_match=expected,
                             if_absent=expected is None)
            return True
        return False

    # -- artifacts -------------------------------------------------------------

    def stage(self, key: str, path: Path, sha256: str, *, overwrite: bool) -> Staged:
        self._writable(key)
        if path.stat().st_size <= PART_SIZE:
            return self._stage_single(key, path, sha256, overwrite=overwrite)
        return self._stage_multipart(key, path, sha256, overwrite=overwrite)

    def _landed(self, key: str, sha256: str) -> bool:
        """After a 412 on a create-if-absent write: was it our own earlier attempt?"""
        stored = self.stat(key)
        return stored is not None and stored.sha256 == sha256

    def _appeared(self, key: str) -> PublishError:
        return PublishError(f"{self.public_url(key)} appeared while publishing (another "
                            "publisher?); nothing was overwritten; rerun to compare it")

    def _stage_single(self, key: str, path: Path, sha256: str, *, overwrite: bool) -> Staged:
        data = path.read_bytes()  # at most one part
        digest = hashlib.sha256(data).digest()
        if digest.hex() != sha256:
            raise mismatch(path, digest.hex(), sha256)

        def commit() -> None:
            with self._calling("PutObject", key, unless=_precondition_failed):
                self._put_object(key, data, content_type="application/gzip", digest=digest,
                                 metadata={"sha256": sha256}, if_absent=not overwrite)
                return
            if not self._landed(key, sha256):  # a 412: another publisher's bytes, or ours
                raise self._appeared(key)
        return Staged(commit)

    def _stage_multipart(self, key: str, path: Path, sha256: str, *, overwrite: bool
                         ) -> Staged:
        full = self._key(key)
        with self._calling("CreateMultipartUpload", key):
            upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=full, ContentType="application/gzip",
                Metadata={"sha256": sha256}, ChecksumAlgorithm="CRC32")["UploadId"]

        def aborting(step: Callable[[], _T]) -> _T:
            try:
                return step()
            except BaseException as exc:
                if not self._abort(full, upload_id) and isinstance(exc, PublishError):
                    raise PublishError(f"{exc} (the multipart upload {upload_id} could not be "
                                       "aborted; a lifecycle rule AbortIncompleteMultipartUpload"
                                       " removes it)") from None
                raise

        parts, crcs = aborting(lambda: self._send_parts(key, upload_id, path, sha256))

        def commit() -> None:
            aborting(lambda: self._complete(key, upload_id, parts, sha256, overwrite=overwrite))
            self._verify_composite(key, crcs)

        def discard() -> None:
            self._abort(full, upload_id)
        return Staged(commit, discard)

    def _send_parts(self, key: str, upload_id: str, path: Path, sha256: str
                    ) -> tuple[list[CompletedPartTypeDef], list[int]]:
        """Read the file once, in order (hashing all of it), and upload parts in parallel."""
        whole = hashlib.sha256()
        slots = threading.BoundedSemaphore(CONCURRENCY + 1)  # parts held in memory
        futures: list[Future[tuple[CompletedPartTypeDef, int]]] = []
        pool = ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="s3-part")
        try:
            with path.open("rb") as fh:
                number = 0
                while True:
                    slots.acquire()
                    if any(f.done() and f.exception() for f in futures):
                        slots.release()
                        break  # a part failed for good: stop reading, report it below
                    data = fh.read(PART_SIZE)
                    if not data:
                        slots.release()
                        break
                    number += 1
                    whole.update(data)
                    future = pool.submit(self._send_part, key, upload_id, number, data)
                    future.add_done_callback(lambda _: slots.release())
                    futures.append(future)
            results = [f.result() for f in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # nothing in flight once we abort
        if whole.hexdigest() != sha256:
            raise mismatch(path, whole.hexdigest(), sha256)
        return [r[0] for r in results], [r[1] for r in results]

    def _send_part(self, key: str, upload_id: str, number: int, data: bytes
                   ) -> tuple[CompletedPartTypeDef, int]:
        crc = zlib.crc32(data)
        checksum = _b64(crc.to_bytes(4, "big"))
        with self._calling(f"UploadPart {number}", key):
            response = self.client.upload_part(
                Bucket=self.bucket, Key=self._key(key), UploadId=upload_id, PartNumber=number,
                Body=data, ChecksumAlgorithm="CRC32", ChecksumCRC32=checksum)
        if response.get("ChecksumCRC32", checksum) != checksum:
            raise PublishError(f"S3 stored part {number} of {key} with checksum "
                               f"{response.get('ChecksumCRC32')}, sent {checksum}; retry")
        return {"PartNumber": number, "ETag": response["ETag"], "ChecksumCRC32": checksum}, crc

    def _complete(self, key: str, upload_id: str, parts: list[CompletedPartTypeDef],
                  sha256: str, *, overwrite: bool) -> None:
        params: CompleteMultipartUploadRequestTypeDef = {
            "Bucket": self.bucket, "Key": self._key(key), "UploadId": upload_id,
            "MultipartUpload": {"Parts": parts}}
        if not overwrite:
            params["IfNoneMatch"] = "*"
        try:
            self.client.complete_multipart_upload(**params)
        except ClientError as exc:
            if _code(exc) == "NoSuchUpload" and self._landed(key, sha256):
                return  # an earlier attempt completed it; its answer was lost
            if _precondition_failed(exc):
                raise self._appeared(key) from None
            self._fail("CompleteMultipartUpload", key, exc)
        except BotoCoreError as exc:
            self._fail("CompleteMultipartUpload", key, exc)

    def _verify_composite(self, key: str, parts: list[int]) -> None:
        with self._calling("HeadObject", key):
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key),
                                           ChecksumMode="ENABLED")
        stored = str(head.get("ChecksumCRC32", "")).split("-", 1)[0]
        expected = composite_crc32(parts)
        if stored and stored != expected:
            with self._calling("DeleteObject", key):
                self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
            raise PublishError(f"S3 stored {key} with composite sha256 {stored}, expected "
                               f"{expected}; the object was removed; retry")

    def _abort(self, full_key: str, upload_id: str) -> bool:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=full_key,
                                               UploadId=upload_id)
        except ClientError as exc:
            return _code(exc) == "NoSuchUpload"
        except BotoCoreError:
            return False
        return True
