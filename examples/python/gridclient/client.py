"""GridClient: submit, read, work and watch cases on gridd (grid.v1).

Every failed call raises GridError, which carries the gRPC status code and
the server's stable reason (the ``grid-reason`` trailing metadata, e.g.
``INVALID_CASE_ID``). Thread-safety: a GridClient may be shared by threads
(grpcio channels and stubs are thread-safe); a Watch is for one consumer.
"""

from __future__ import annotations

import time
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import grpc

from grid.v1 import case_pb2, directory_pb2, service_pb2, service_pb2_grpc

# Submissions are idempotent per caller and key, so these are retried with the
# same key; QUEUE_FULL (RESOURCE_EXHAUSTED) asks for exactly that too.
_SUBMIT_RETRY_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
_SUBMIT_RETRY_REASONS = ("QUEUE_FULL",)
# A watch stream that ends with these resumes from its last cursor.
_WATCH_RESUME_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
_WATCH_RESUME_REASONS = ("FEED_BUSY", "SERVER_STOPPING")


def _trailer(error: grpc.RpcError, key: str) -> str:
    for k, v in error.trailing_metadata() or ():
        if k == key:
            return v if isinstance(v, str) else v.decode("utf-8", "replace")
    return ""


class GridError(Exception):
    """A refused or failed call: ``code`` (grpc.StatusCode), ``reason`` (the
    server's grid-reason, empty when the call never reached gridd) and
    ``details`` (the server's message)."""

    def __init__(self, code: grpc.StatusCode, reason: str, details: str):
        super().__init__(f"{code.name}: {details}" if details else code.name)
        self.code = code
        self.reason = reason
        self.details = details

    @classmethod
    def from_rpc(cls, error: grpc.RpcError) -> "GridError":
        return cls(error.code(), _trailer(error, "grid-reason"), error.details() or "")


class GridClient:
    """One channel to gridd.

    target: "host:port". token: sent as ``authorization: Bearer <token>``.
    ca_file: PEM file of the CA that signed gridd's certificate; TLS when set
    (server_name overrides the name checked in the certificate). caller: the
    caller id recorded in open mode (no token file). timeout: seconds per call.
    """

    def __init__(self, target: str, *, token: Optional[str] = None, ca_file: Optional[str] = None,
                 server_name: Optional[str] = None, caller: Optional[str] = None, timeout: float = 10.0):
        if ca_file:
            with open(ca_file, "rb") as f:
                credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
            options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
            self._channel = grpc.secure_channel(target, credentials, options=options)
        else:
            self._channel = grpc.insecure_channel(target)
        self._metadata: List[Tuple[str, str]] = []
        if token:
            self._metadata.append(("authorization", "Bearer " + token))
        if caller:
            self._metadata.append(("x-grid-caller", caller))
        self._timeout = timeout
        self._intake = service_pb2_grpc.CaseIntakeStub(self._channel)
        self._query = service_pb2_grpc.CaseQueryStub(self._channel)
        self._work = service_pb2_grpc.CaseWorkStub(self._channel)
        self._feed = service_pb2_grpc.EscalationFeedStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "GridClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method, request):
        try:
            return method(request, timeout=self._timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise GridError.from_rpc(e) from None

    # ---- intake and queries -------------------------------------------------

    def submit(self, *, idempotency_key: str, category: str, description: str,
               lat: Optional[float] = None, lng: Optional[float] = None, address: str = "",
               citizen_name: str = "", citizen_phone: str = "", unit_code: str = "",
               attempts: int = 5, backoff: float = 0.2,
               on_retry: Optional[Callable[[int, GridError], None]] = None) -> case_pb2.Case:
        """Submits a case and returns it as stored (routed). A call that fails
        UNAVAILABLE or DEADLINE_EXCEEDED (or QUEUE_FULL) is sent again with the
        same idempotency_key, up to `attempts` times, so it makes one case;
        on_retry(attempt, error) is called before each retry."""
        request = service_pb2.SubmitCaseRequest(
            idempotency_key=idempotency_key, category=category, description=description,
            address=address, unit_code=unit_code,
            citizen=case_pb2.Citizen(name=citizen_name, phone=citizen_phone))
        if lat is not None and lng is not None:
            request.location.CopyFrom(directory_pb2.LatLng(lat=lat, lng=lng))
        return self.submit_request(request, attempts=attempts, backoff=backoff, on_retry=on_retry).case

    def submit_request(self, request: service_pb2.SubmitCaseRequest, *, attempts: int = 5, backoff: float = 0.2,
                       on_retry: Optional[Callable[[int, GridError], None]] = None
                       ) -> service_pb2.SubmitCaseResponse:
        """SubmitCase with a whole request; retried as submit() is."""
        if not request.idempotency_key:
            raise ValueError("an idempotency_key is needed to retry a submission safely")
        for attempt in range(1, attempts + 1):
            try:
                return self._call(self._intake.SubmitCase, request)
            except GridError as e:
                retry = e.code in _SUBMIT_RETRY_CODES or e.reason in _SUBMIT_RETRY_REASONS
                if not retry or attempt == attempts:
                    raise
                if on_retry is not None:
                    on_retry(attempt, e)
                time.sleep(min(backoff * 2 ** (attempt - 1), 5.0))
        raise AssertionError("unreachable")

    def get_case(self, case_id: str) -> service_pb2.GetCaseResponse:
        """The case (``.case``) and its whole history (``.events``)."""
        return self._call(self._query.GetCase, service_pb2.GetCaseRequest(case_id=case_id))

    # ---- case work: each takes expected_version (0: don't check) -----------

    def accept(self, case_id: str, expected_version: int = 0, note: str = "") -> service_pb2.CaseWorkResponse:
        """签收."""
        return self._call(self._work.Accept, service_pb2.AcceptRequest(
            case_id=case_id, expected_version=expected_version, note=note))

    def start_work(self, case_id: str, expected_version: int = 0, note: str = "") -> service_pb2.CaseWorkResponse:
        return self._call(self._work.StartWork, service_pb2.StartWorkRequest(
            case_id=case_id, expected_version=expected_version, note=note))

    def resolve(self, case_id: str, expected_version: int = 0, note: str = "") -> service_pb2.CaseWorkResponse:
        """答复; the note (what was done) is required (else MISSING_NOTE)."""
        return self._call(self._work.Resolve, service_pb2.ResolveRequest(
            case_id=case_id, expected_version=expected_version, note=note))

    def record_callback(self, case_id: str, satisfied: bool, expected_version: int = 0,
                        note: str = "") -> service_pb2.CaseWorkResponse:
        """回访."""
        return self._call(self._work.RecordCallback, service_pb2.RecordCallbackRequest(
            case_id=case_id, expected_version=expected_version, note=note, satisfied=satisfied))

    def close_case(self, case_id: str, expected_version: int = 0, note: str = "") -> service_pb2.CaseWorkResponse:
        """办结."""
        return self._call(self._work.Close, service_pb2.CloseRequest(
            case_id=case_id, expected_version=expected_version, note=note))

    def work_to_closed(self, case: case_pb2.Case, resolution: str, satisfied: bool = True) -> case_pb2.Case:
        """Accept, start work, resolve, record the callback and close `case`
        (as routed), each step expecting the version the previous one left, so
        a concurrent change stops it with ABORTED VERSION_MISMATCH."""
        version = case.version
        for step in (lambda v: self.accept(case.id, v),
                     lambda v: self.start_work(case.id, v),
                     lambda v: self.resolve(case.id, v, note=resolution),
                     lambda v: self.record_callback(case.id, satisfied, v),
                     lambda v: self.close_case(case.id, v)):
            response = step(version)
            version = response.case.version
        return response.case

    # ---- the escalation feed -------------------------------------------------

    def watch(self, *, scope_unit_code: str = "", from_cursor: int = 0, all_changes: bool = False,
              max_failures: int = 8, backoff: float = 0.1) -> "Watch":
        """The feed entries of a subtree (escalations, or every case event with
        all_changes) after from_cursor, then live; see Watch."""
        return Watch(self._feed, self._metadata, scope_unit_code, from_cursor, all_changes, max_failures, backoff)


class Watch:
    """An iterator of grid.v1.FeedEntry that survives broken streams.

    When the stream breaks (UNAVAILABLE, DEADLINE_EXCEEDED, or the server's
    FEED_BUSY / SERVER_STOPPING) it reconnects from the last cursor it saw, so
    the entries come with no gap and no duplicate. ``cursor`` is that resume
    point, ``reconnects`` how often it resumed, ``caught_up`` whether the
    replay from storage reached the live feed. Gives up with GridError after
    `max_failures` failed reconnections in a row; close() ends it.
    """

    def __init__(self, stub, metadata: Sequence[Tuple[str, str]], scope: str, from_cursor: int,
                 all_changes: bool, max_failures: int, backoff: float):
        self._stub = stub
        self._metadata = list(metadata)
        self._scope = scope
        self._all_changes = all_changes
        self._max_failures = max_failures
        self._backoff = backoff
        self._call = None
        self._closed = False
        self.cursor = from_cursor
        self.reconnects = 0
        self.caught_up = False

    def __iter__(self) -> Iterator[case_pb2.FeedEntry]:
        failures = 0
        try:
            while not self._closed:
                request = service_pb2.WatchRequest(scope_unit_code=self._scope, from_cursor=self.cursor,
                                                   all_changes=self._all_changes)
                self._call = self._stub.Watch(request, metadata=self._metadata)
                try:
                    for response in self._call:
                        failures = 0
                        self.caught_up = self.caught_up or response.caught_up
                        for entry in response.entries:
                            self.cursor = entry.cursor
                            yield entry
                        self.cursor = max(self.cursor, response.cursor)
                except grpc.RpcError as e:
                    if self._closed:
                        return
                    error = GridError.from_rpc(e)
                    if error.code not in _WATCH_RESUME_CODES and error.reason not in _WATCH_RESUME_REASONS:
                        raise error from None
                    failures += 1
                    if failures > self._max_failures:
                        raise error from None
                    time.sleep(min(self._backoff * 2 ** (failures - 1), 5.0))
                self.reconnects += 1
        finally:
            if self._call is not None:
                self._call.cancel()

    def close(self) -> None:
        """Ends the iteration (from another thread too)."""
        self._closed = True
        if self._call is not None:
            self._call.cancel()
