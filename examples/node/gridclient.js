// GridClient: submit, read, work and watch cases on gridd (grid.v1) with
// @grpc/grpc-js. The .proto files are loaded from the repository's proto/ at
// run time (@grpc/proto-loader); nothing is generated.
//
// Every failed call rejects with a GridError that carries the gRPC status and
// the server's stable reason (the `grid-reason` trailing metadata, e.g.
// INVALID_CASE_ID). Messages are plain objects with camelCase fields, enums as
// their names ('CASE_STATUS_ROUTED') and 64-bit integers as numbers.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const DEFAULT_PROTO_DIR = path.resolve(__dirname, '..', '..', 'proto');

// Submissions are idempotent per caller and key: these are retried with the same key.
const SUBMIT_RETRY_CODES = [grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED];
const SUBMIT_RETRY_REASONS = ['QUEUE_FULL'];
// A watch stream that ends with these resumes from its last cursor.
const WATCH_RESUME_CODES = [grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED];
const WATCH_RESUME_REASONS = ['FEED_BUSY', 'SERVER_STOPPING'];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const backoffMs = (base, n) => Math.min(base * 2 ** (n - 1), 5000);

/** A refused or failed call. */
class GridError extends Error {
  /**
   * @param {number} code grpc.status value
   * @param {string} reason the server's grid-reason ('' when the call never reached gridd)
   * @param {string} details the server's message
   */
  constructor(code, reason, details) {
    const codeName = Object.keys(grpc.status).find((k) => grpc.status[k] === code) || String(code);
    super(details ? `${codeName}: ${details}` : codeName);
    this.name = 'GridError';
    this.code = code;
    this.codeName = codeName;
    this.reason = reason;
    this.details = details;
  }

  /** @param {import('@grpc/grpc-js').ServiceError} error */
  static from(error) {
    const reason = error.metadata ? error.metadata.get('grid-reason') : [];
    return new GridError(error.code, reason.length > 0 ? String(reason[0]) : '', error.details || '');
  }
}

/**
 * @typedef {object} ClientOptions
 * @property {string} [token] sent as `authorization: Bearer <token>`
 * @property {string} [caFile] PEM file of the CA that signed gridd's certificate: TLS when set
 * @property {string} [serverName] the name to check in the certificate, when not the target's host
 * @property {string} [caller] the caller id recorded in open mode (no token file)
 * @property {number} [timeoutMs] per call, default 10000
 * @property {string} [protoDir] where grid/v1/*.proto are, default the repository's proto/
 */

/**
 * @typedef {object} Submission
 * @property {string} idempotencyKey required: a retry with it returns the same case
 * @property {string} category
 * @property {string} description
 * @property {number} [lat] WGS-84
 * @property {number} [lng]
 * @property {string} [address]
 * @property {string} [citizenName]
 * @property {string} [citizenPhone]
 * @property {string} [unitCode]
 */

class GridClient {
  /**
   * @param {string} target "host:port"
   * @param {ClientOptions} [options]
   */
  constructor(target, options = {}) {
    const protoDir = options.protoDir || DEFAULT_PROTO_DIR;
    const definition = protoLoader.loadSync(['grid/v1/service.proto'], {
      includeDirs: [protoDir],
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const v1 = grpc.loadPackageDefinition(definition).grid.v1;
    let credentials = grpc.credentials.createInsecure();
    const channelOptions = {};
    if (options.caFile) {
      credentials = grpc.credentials.createSsl(fs.readFileSync(options.caFile));
      if (options.serverName) channelOptions['grpc.ssl_target_name_override'] = options.serverName;
    }
    this._intake = new v1.CaseIntake(target, credentials, channelOptions);
    // The other stubs share the first one's channel.
    const shared = { channelOverride: this._intake.getChannel() };
    this._query = new v1.CaseQuery(target, credentials, shared);
    this._work = new v1.CaseWork(target, credentials, shared);
    this._feed = new v1.EscalationFeed(target, credentials, shared);
    this._token = options.token || '';
    this._caller = options.caller || '';
    this._timeoutMs = options.timeoutMs || 10000;
  }

  close() {
    this._intake.close();
  }

  _metadata() {
    const md = new grpc.Metadata();
    if (this._token) md.set('authorization', `Bearer ${this._token}`);
    if (this._caller) md.set('x-grid-caller', this._caller);
    return md;
  }

  _unary(stub, method, request) {
    return new Promise((resolve, reject) => {
      stub[method](request, this._metadata(), { deadline: Date.now() + this._timeoutMs }, (err, response) =>
        err ? reject(GridError.from(err)) : resolve(response));
    });
  }

  // ---- intake and queries ---------------------------------------------------

  /**
   * Submits a case and returns it as stored (routed). A call that fails
   * UNAVAILABLE or DEADLINE_EXCEEDED (or QUEUE_FULL) is sent again with the
   * same idempotency key, up to `attempts` times, so it makes one case.
   * @param {Submission} s
   * @param {{attempts?: number, backoffMs?: number, onRetry?: (attempt: number, error: GridError) => void}} [retry]
   * @returns {Promise<object>} the grid.v1.Case
   */
  async submit(s, retry = {}) {
    if (!s.idempotencyKey) throw new Error('an idempotencyKey is needed to retry a submission safely');
    const request = {
      idempotencyKey: s.idempotencyKey,
      category: s.category,
      description: s.description,
      address: s.address || '',
      unitCode: s.unitCode || '',
      citizen: { name: s.citizenName || '', phone: s.citizenPhone || '' },
    };
    if (s.lat !== undefined && s.lng !== undefined) request.location = { lat: s.lat, lng: s.lng };
    const attempts = retry.attempts || 5;
    for (let attempt = 1; ; ++attempt) {
      try {
        return (await this._unary(this._intake, 'SubmitCase', request)).case;
      } catch (e) {
        const again = SUBMIT_RETRY_CODES.includes(e.code) || SUBMIT_RETRY_REASONS.includes(e.reason);
        if (!again || attempt >= attempts) throw e;
        if (retry.onRetry) retry.onRetry(attempt, e);
        await sleep(backoffMs(retry.backoffMs || 200, attempt));
      }
    }
  }

  /**
   * @param {string} caseId
   * @returns {Promise<{case: object, events: object[]}>} the case and its whole history
   */
  getCase(caseId) {
    return this._unary(this._query, 'GetCase', { caseId });
  }

  // ---- case work: each takes expectedVersion (0: don't check) ---------------
  // Each resolves to the CaseWorkResponse: {case, events (those appended)}.

  /** 签收 */
  accept(caseId, expectedVersion = 0, note = '') {
    return this._unary(this._work, 'Accept', { caseId, expectedVersion, note });
  }

  startWork(caseId, expectedVersion = 0, note = '') {
    return this._unary(this._work, 'StartWork', { caseId, expectedVersion, note });
  }

  /** 答复; the note (what was done) is required (else MISSING_NOTE). */
  resolve(caseId, expectedVersion = 0, note = '') {
    return this._unary(this._work, 'Resolve', { caseId, expectedVersion, note });
  }

  /** 回访 */
  recordCallback(caseId, satisfied, expectedVersion = 0, note = '') {
    return this._unary(this._work, 'RecordCallback', { caseId, expectedVersion, note, satisfied });
  }

  /** 办结 */
  closeCase(caseId, expectedVersion = 0, note = '') {
    return this._unary(this._work, 'Close', { caseId, expectedVersion, note });
  }

  /**
   * Accepts, starts work, resolves, records the callback and closes a routed
   * case, each step expecting the version the previous one left, so a
   * concurrent change stops it with ABORTED VERSION_MISMATCH.
   * @returns {Promise<object>} the closed case
   */
  async workToClosed(c, resolution, satisfied = true) {
    let version = c.version;
    let response;
    for (const step of [
      (v) => this.accept(c.id, v),
      (v) => this.startWork(c.id, v),
      (v) => this.resolve(c.id, v, resolution),
      (v) => this.recordCallback(c.id, satisfied, v),
      (v) => this.closeCase(c.id, v),
    ]) {
      response = await step(version);
      version = response.case.version;
    }
    return response.case;
  }

  // ---- the escalation feed ------------------------------------------------------

  /**
   * The feed entries of a subtree (escalations, or every case event with
   * allChanges) after fromCursor, then live.
   * @param {{scopeUnitCode?: string, fromCursor?: number, allChanges?: boolean,
   *          maxFailures?: number, backoffMs?: number}} [options]
   * @returns {Watch}
   */
  watch(options = {}) {
    return new Watch(this._feed, () => this._metadata(), options);
  }
}

/**
 * An async iterable of grid.v1.FeedEntry that survives broken streams: when
 * the stream breaks (UNAVAILABLE, DEADLINE_EXCEEDED, or the server's
 * FEED_BUSY / SERVER_STOPPING) it reconnects from the last cursor it saw, so
 * entries come with no gap and no duplicate. `cursor` is that resume point,
 * `reconnects` how often it resumed, `caughtUp` whether the replay reached the
 * live feed. Gives up with a GridError after maxFailures failed reconnections
 * in a row; close() ends it.
 */
class Watch {
  constructor(stub, metadata, options) {
    this._stub = stub;
    this._metadata = metadata;
    this._scope = options.scopeUnitCode || '';
    this._allChanges = Boolean(options.allChanges);
    this._maxFailures = options.maxFailures || 8;
    this._backoffMs = options.backoffMs || 100;
    this._call = null;
    this._closed = false;
    this.cursor = options.fromCursor || 0;
    this.reconnects = 0;
    this.caughtUp = false;
  }

  async *[Symbol.asyncIterator]() {
    let failures = 0;
    try {
      while (!this._closed) {
        const request = { scopeUnitCode: this._scope, fromCursor: this.cursor, allChanges: this._allChanges };
        const call = this._stub.Watch(request, this._metadata());
        this._call = call;
        try {
          for await (const response of call) {
            failures = 0;
            this.caughtUp = this.caughtUp || response.caughtUp;
            for (const entry of response.entries) {
              this.cursor = entry.cursor;
              yield entry;
            }
            this.cursor = Math.max(this.cursor, response.cursor);
          }
        } catch (e) {
          if (this._closed) return;
          const error = GridError.from(e);
          if (!WATCH_RESUME_CODES.includes(error.code) && !WATCH_RESUME_REASONS.includes(error.reason)) throw error;
          if (++failures > this._maxFailures) throw error;
          await sleep(backoffMs(this._backoffMs, failures));
        }
        this.reconnects += 1;
      }
    } finally {
      if (this._call) this._call.cancel();
    }
  }

  /** Ends the iteration. */
  close() {
    this._closed = true;
    if (this._call) this._call.cancel();
  }
}

module.exports = { GridClient, GridError, Watch };
