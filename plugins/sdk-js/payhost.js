// payhost-sdk for JavaScript connectors (contract payhost:connector@0.3.0),
// version 0.1.0. One ES module with no imports: the same helpers work inside
// the component (componentize-qjs) and in Node.js for unit tests.
//
// A connector never holds a credential, anything computed from one, or card
// data. It names a secret with `secret(name)`, places a sealed value (a card
// number, a CVV, a signature crypto computed) with `sealed(handle)`, and the
// host writes the bytes as it sends, where the operator granted them.
//
// WIT shapes, as componentize-qjs maps them: records are objects with
// camelCase keys, variants `{ tag, val }`, enums strings, `option` a value or
// `undefined`/`null`, a `result` error thrown (an export throws its error; an
// import that fails throws an `Error` whose `payload` is its error value).

/** The SDK's version. */
export const VERSION = '0.1.0';

// ---- text ----

/** `text` as UTF-8 bytes. */
export function utf8(text) {
  const out = [];
  for (const char of String(text)) {
    let c = char.codePointAt(0);
    if (c < 0x80) {
      out.push(c);
    } else if (c < 0x800) {
      out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      if (c >= 0xd800 && c < 0xe000) c = 0xfffd; // a lone surrogate
      out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    } else {
      out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    }
  }
  return Uint8Array.from(out);
}

/**
 * UTF-8 `bytes` as text. Throws a `TypeError` on bytes that are not UTF-8
 * (an answer that cannot be read must not be guessed at), unless `lossy`,
 * which writes U+FFFD for each byte that starts no valid sequence instead.
 */
export function fromUtf8(bytes, { lossy = false } = {}) {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    let c = need < 0 ? -1 : need === 0 ? b : b & (0x3f >> need);
    let k = 1;
    for (; c >= 0 && k <= need; k++) {
      const next = bytes[i + k];
      c = next !== undefined && (next & 0xc0) === 0x80 ? (c << 6) | (next & 0x3f) : -1;
    }
    if (c < [0, 0x80, 0x800, 0x10000][Math.max(need, 0)] || c > 0x10ffff || (c >= 0xd800 && c < 0xe000)) {
      if (!lossy) throw new TypeError(`not UTF-8 at byte ${i}`);
      out += '\ufffd';
      i += 1;
      continue;
    }
    out += String.fromCodePoint(c);
    i += need + 1;
  }
  return out;
}

/** Bytes as lower-case hexadecimal. */
export function hex(bytes) {
  let out = '';
  for (const b of bytes) out += (b < 16 ? '0' : '') + b.toString(16);
  return out;
}

/** `text` percent-encoded for a URL's query (all but RFC 3986's unreserved). */
export function urlComponent(text) {
  let out = '';
  for (const b of utf8(text)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b < 16 ? '0' : ''}${b.toString(16).toUpperCase()}`;
  }
  return out;
}

// ---- parts: what a URL, a header, a body or a crypto input is made of ----

/** Parts the SDK made: only these are placed as secrets or sealed values. */
const hidden = new WeakSet();

/** A literal part: text (written as UTF-8) or bytes. */
export function literal(value) {
  return Object.freeze({ tag: 'literal', val: typeof value === 'string' ? utf8(value) : Uint8Array.from(value) });
}

/**
 * A secret, by its name in `info().secrets`: the host writes its value
 * with `encoding` (`raw`, `hex`, `base64`, `json-string`, …) as it sends.
 */
export function secret(name, encoding = 'raw') {
  const part = Object.freeze({ tag: 'secret', val: Object.freeze({ name: String(name), encoding }) });
  hidden.add(part);
  return part;
}

/**
 * A sealed value (a card's `number` or `cvv`, or what crypto computed from
 * a secret), written by the host with `encoding`. The connector never
 * reads it.
 */
export function sealed(value, encoding = 'raw') {
  // A sealed value is a handle the host gave (a resource); data is never one.
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype) {
    throw new TypeError('sealed(): not a sealed value the host gave');
  }
  const part = Object.freeze({ tag: 'sealed', val: Object.freeze({ value, encoding }) });
  hidden.add(part);
  return part;
}

/**
 * A list of parts from strings (literal text), byte arrays (literal bytes)
 * and parts made by `literal`, `secret` or `sealed`, in order.
 */
export function parts(...items) {
  return items.flat().map((item) => {
    if (typeof item === 'string' || item instanceof Uint8Array) return literal(item);
    if (item && typeof item === 'object' && item.tag === 'literal') return item;
    if (hidden.has(item)) return item;
    throw new TypeError(`parts(): ${typeof item} is not text, bytes or a part`);
  });
}

/**
 * What crypto computed, as a sealed part written with `encoding` (`hex`,
 * `hex-upper`, `base64`, `base64url` or `raw`). Throws when crypto answered
 * bytes: a signature over a secret always comes back sealed.
 */
export function sealedOutput(output, encoding = 'hex') {
  if (output?.tag !== 'sealed') throw new TypeError('the crypto output is not sealed');
  return sealed(output.val, encoding);
}

// ---- JSON bodies ----

/** Text written into JSON as it is (an amount's digits), already checked. */
class Raw {
  constructor(text) {
    this.text = text;
  }
}

/** A plain decimal as a JSON number writes it: no leading zero, at most 18 and 8 digits. */
const DECIMAL = /^(0|[1-9][0-9]{0,17})(\.[0-9]{1,8})?$/;

/**
 * An amount (`"312.99"`) as a JSON number with exactly its digits
 * (`312.99`, `100.00`): never through a float. Throws a connector error
 * (`invalid-request`) when it is not a plain decimal.
 */
export function decimal(amount) {
  if (typeof amount !== 'string' || !DECIMAL.test(amount)) {
    throw error('invalid-request', `the amount ${JSON.stringify(String(amount))} is not a plain decimal`);
  }
  return new Raw(amount);
}

/**
 * A whole number (a `BigInt`, or a safe integer) as a JSON number with
 * exactly its digits: `18446744073709551615`, never `1.8446744073709552e19`.
 */
export function wholeNumber(value) {
  if (typeof value === 'bigint' || Number.isSafeInteger(value)) return new Raw(String(value));
  throw new TypeError(`wholeNumber(): ${String(value)} is not a BigInt or a safe integer`);
}

/** An amount as a JSON string (`"312.99"`), checked as `decimal` checks it. */
export function decimalString(amount) {
  decimal(amount);
  return amount;
}

/**
 * A JSON body as parts: `value` (plain objects, arrays, strings, finite
 * numbers, booleans, `null`) serialized with each object's keys in its own
 * order (JavaScript's: integer-like keys first, then the others as
 * written), where a `secret(…)` or `sealed(…)` part stands for the value
 * the host writes (give it the `json-string` encoding for a quoted string,
 * `raw` for digits), and a `decimal(…)` for a number written exactly.
 * `undefined` members are left out, as `JSON.stringify` does.
 */
export function json(value) {
  const out = [];
  let text = '';
  const flush = () => {
    if (text) out.push(literal(text));
    text = '';
  };
  const write = (v) => {
    if (hidden.has(v)) {
      flush();
      out.push(v);
    } else if (v instanceof Raw) {
      text += v.text;
    } else if (Array.isArray(v)) {
      text += '[';
      for (let i = 0; i < v.length; i++) {
        if (i) text += ',';
        write(v[i] === undefined ? null : v[i]);
      }
      text += ']';
    } else if (v !== null && typeof v === 'object') {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`json(): a ${proto?.constructor?.name ?? 'value'} is not a plain object`);
      }
      text += '{';
      let first = true;
      for (const [key, item] of Object.entries(v)) {
        if (item === undefined) continue;
        if (!first) text += ',';
        first = false;
        text += `${JSON.stringify(key)}:`;
        write(item);
      }
      text += '}';
    } else if (typeof v === 'number' && !Number.isFinite(v)) {
      throw new TypeError('json(): a number that is not finite');
    } else {
      const written = JSON.stringify(v);
      if (written === undefined) throw new TypeError(`json(): ${typeof v} is not JSON`);
      text += written;
    }
  };
  write(value);
  flush();
  return out;
}

/** The bytes of literal-only parts (a body to sign exactly as it is sent). */
export function bytesOf(list) {
  const chunks = list.map((p) => {
    if (p.tag !== 'literal') throw new TypeError('bytesOf(): a part is a secret or sealed value');
    return p.val;
  });
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

// ---- outcomes ----

/**
 * A connector error: `kind` is an `error-kind` case (`declined`,
 * `invalid-request`, …). Throw it from `query`, or put it in an outcome.
 */
export function error(kind, message, { code, retryable = false } = {}) {
  return { kind, retryable, supplierCode: code, message: String(message) };
}

function outcome(state, { reference, charged, code, message, error: why, details = [] } = {}) {
  return {
    state,
    supplierReference: reference,
    charged,
    supplierCode: code,
    supplierMessage: message,
    error: why,
    details,
  };
}

/** The supplier took the money. `fields`: `reference`, `code`, `message`, `charged`, `details`. */
export function succeeded(fields = {}) {
  return outcome('succeeded', fields);
}

/** The supplier accepted the payment and settles it later (final until it moves it). */
export function pending(fields = {}) {
  return outcome('pending', fields);
}

/**
 * `thrown` as a connector error: one made by `error` as it is; anything
 * else (a `TypeError` from building a request) as `invalid-request` with
 * its text.
 */
export function asError(thrown) {
  if (thrown && typeof thrown === 'object' && typeof thrown.kind === 'string' && typeof thrown.message === 'string') {
    return thrown;
  }
  return error('invalid-request', `the request could not be made: ${thrown}`);
}

/** No money moved: the supplier refused, or nothing was sent. `why`: a connector error, or anything thrown. */
export function failed(why, fields = {}) {
  const e = asError(why);
  return outcome('failed', { ...fields, error: e, code: fields.code ?? e.supplierCode });
}

/** The request may have reached the supplier and its answer is not known. */
export function unknown(why, fields = {}) {
  const e = asError(why);
  return outcome('unknown', { ...fields, error: e, code: fields.code ?? e.supplierCode });
}

/**
 * One row of a supplier's code table: the state (`failed` when no money
 * moved, `unknown` when it may have), the unified kind, and whether the same
 * request may be sent again.
 */
export class Code {
  constructor(state, kind, again = false) {
    /** `failed` or `unknown`. */
    this.state = state;
    /** The unified `error-kind`. */
    this.kind = kind;
    /** Whether the same request may be sent again as it is. */
    this.again = again;
  }

  /** No money moved. */
  static failed(kind) {
    return new Code('failed', kind);
  }

  /** Money may have moved: never retried blindly. */
  static unknown(kind) {
    return new Code('unknown', kind);
  }

  /** The same request may be sent again later as it is. */
  retryable() {
    return new Code(this.state, this.kind, true);
  }

  /**
   * The outcome of the supplier answering `code` and, when it said one,
   * `message`: the outcome's supplier message is only what the supplier said.
   */
  said(code, message) {
    code = String(code);
    const text = typeof message === 'string' ? message : undefined;
    const why = error(this.kind, text ?? `supplier code ${code}`, { code, retryable: this.again });
    return outcome(this.state, { code, message: text, error: why });
  }
}

// ---- the exchange ----

/** Whether an `http-error` case may have reached the supplier. */
export function mayHaveBeenSent(httpError) {
  return !['denied', 'invalid', 'connect'].includes(httpError?.tag);
}

/**
 * The outcome of a request that got no answer: `failed` when nothing can
 * have reached the supplier (`denied`, `invalid`, `connect`), `unknown`
 * when it may have. Anything thrown that is not an `http-error` counts as
 * possibly sent.
 */
export function httpErrorOutcome(thrown) {
  // componentize-qjs throws an `Error` whose `payload` is the error value.
  const value = thrown?.payload ?? thrown;
  const httpError = value && typeof value === 'object' && typeof value.tag === 'string' ? value : { tag: 'broken', val: String(thrown) };
  const kinds = {
    denied: ['denied', false],
    invalid: ['invalid-request', false],
    connect: ['supplier-unavailable', true],
    timeout: ['timeout', false],
    broken: ['supplier-unavailable', false],
    'too-large': ['protocol', false],
  };
  const [kind, retryable] = kinds[httpError.tag] ?? ['supplier-unavailable', false];
  const why = error(kind, `${httpError.tag}: ${httpError.val}`, { retryable });
  return mayHaveBeenSent(httpError) ? unknown(why) : failed(why);
}

/**
 * Sends `request` with the contract's `send` (import it from
 * `payhost:connector/http@0.3.0`) and turns the answer into an outcome with
 * `read(response)`; no answer gives `httpErrorOutcome`, and a `read` that
 * throws gives `unknown` (the request went out).
 */
export function exchange(send, request, read) {
  let response;
  try {
    response = send({ timeoutMs: undefined, ...request });
  } catch (thrown) {
    return httpErrorOutcome(thrown);
  }
  try {
    return read(response);
  } catch (thrown) {
    // The request went out: whatever `read` tripped on, money may have moved.
    return unknown(error('protocol', `HTTP ${response.status}: the answer could not be read: ${thrown}`));
  }
}

/** The first value of an answer's header, by name (any case). */
export function header(response, name) {
  const lower = name.toLowerCase();
  return response.headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}

/** Whether the answer's HTTP status is 2xx. */
export function isSuccess(response) {
  return response.status >= 200 && response.status <= 299;
}

/** A string with a lone surrogate, which no UTF-8 text can hold. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WHITESPACE = /[ \t\r\n]*/y;
/** How deep an answer may nest before it is refused. */
const MAX_DEPTH = 128;

/**
 * Checks `text` as JSON more strictly than `JSON.parse`: an object that
 * names a key twice (even written with escapes), a string with a lone
 * surrogate, or nesting deeper than 128 levels is refused, as the Rust SDK
 * refuses them. Returns each top-level member's literal text by its key
 * when the value is an object. Throws a `TypeError` saying what is wrong.
 */
function scan(text) {
  let at = 0;
  const fail = (what) => {
    throw new TypeError(`not JSON the connector may read: ${what} at character ${at}`);
  };
  const space = () => {
    WHITESPACE.lastIndex = at;
    WHITESPACE.exec(text);
    at = WHITESPACE.lastIndex;
  };
  const string = () => {
    const start = at;
    at += 1;
    while (at < text.length && text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    if (at >= text.length) fail('an unterminated string');
    at += 1;
    let value;
    try {
      value = JSON.parse(text.slice(start, at));
    } catch {
      fail('a malformed string');
    }
    if (LONE_SURROGATE.test(value)) fail('a lone surrogate');
    return value;
  };
  const value = (depth, members) => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    space();
    const c = text[at];
    if (c === '{') {
      at += 1;
      const keys = new Set();
      space();
      if (text[at] === '}') {
        at += 1;
        return;
      }
      for (;;) {
        space();
        if (text[at] !== '"') fail('a key that is not a string');
        const key = string();
        if (keys.has(key)) fail(`the key ${JSON.stringify(key)} twice`);
        keys.add(key);
        space();
        if (text[at] !== ':') fail('a missing `:`');
        at += 1;
        space();
        const start = at;
        value(depth + 1, undefined);
        if (members) members.set(key, text.slice(start, at));
        space();
        if (text[at] === ',') at += 1;
        else if (text[at] === '}') {
          at += 1;
          return;
        } else fail('a missing `,` or `}`');
      }
    }
    if (c === '[') {
      at += 1;
      space();
      if (text[at] === ']') {
        at += 1;
        return;
      }
      for (;;) {
        value(depth + 1, undefined);
        space();
        if (text[at] === ',') at += 1;
        else if (text[at] === ']') {
          at += 1;
          return;
        } else fail('a missing `,` or `]`');
      }
    }
    if (c === '"') {
      string();
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return;
      }
    }
    NUMBER.lastIndex = at;
    if (!NUMBER.exec(text)) fail('a value that is not JSON');
    at = NUMBER.lastIndex;
  };
  const members = new Map();
  space();
  const isObject = text[at] === '{';
  value(0, members);
  space();
  if (at !== text.length) fail('text after the value');
  return isObject ? members : undefined;
}

/**
 * The answer's body read as JSON, strictly (see `readObject`); `undefined`
 * when it is not JSON or says a key twice.
 */
export function parseJson(response) {
  try {
    const text = fromUtf8(response.body);
    scan(text);
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The answer's body read as one JSON object, strictly: `{ value, raw }`,
 * `value` what `JSON.parse` makes of it and `raw` each top-level member's
 * literal text by its key (for `integer`). `undefined` when the body is
 * not UTF-8, not JSON, not an object, says a key twice anywhere (a supplier
 * that says two things has said nothing to act on), holds a lone surrogate
 * or nests deeper than 128 levels.
 */
export function readObject(response) {
  try {
    const text = fromUtf8(response.body);
    const raw = scan(text);
    return raw === undefined ? undefined : { value: JSON.parse(text), raw };
  } catch {
    return undefined;
  }
}

/**
 * A member's literal text (`readObject(…).raw.get('status')`) as an
 * integer when it is written as a plain one (`0`, `404`, `-3`), else
 * `undefined`: `0.0`, `-0`, `1e0`, `"0"` and numbers past 2^53 are no
 * status code, so that only the literal `0` can mean success.
 */
export function integer(literal) {
  if (typeof literal !== 'string' || !/^-?(0|[1-9][0-9]*)$/.test(literal) || literal === '-0') return undefined;
  const n = Number(literal);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The outcome of an answer that cannot be read as the supplier's documented
 * format: the request reached the supplier, so `unknown`.
 */
export function unreadable(response, what) {
  const snippet = fromUtf8(response.body.slice(0, 120), { lossy: true });
  const kind = response.status >= 500 ? 'supplier-unavailable' : 'protocol';
  return unknown(error(kind, `HTTP ${response.status}: ${what}; the answer began: ${JSON.stringify(snippet)}`));
}

// ---- info ----

// One placement of a hidden value (`secret:NAME`, `card:number`,
// `card:cvv`, `derived:A+B`) in requests (`POST **/pay`) at a field
// (`header:x-api-key`, `json:/card/number`, …) with an encoding.
export function placement(value, request, at, encoding, { prefix, origin } = {}) {
  return { value, request, at, encoding, prefix, origin };
}
