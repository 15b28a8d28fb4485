// payhost connector for Atlas (atriptech), in JavaScript: the Rust
// connector's twin (plugins/atlas) for balance and account payments, built
// from the same WIT with componentize-js. `POST {base_url}/pay.do`, JSON, credentials in the
// `x-atlas-client-id` and `x-atlas-client-secret` headers, written by the
// host from its secrets: this code names them and never holds them.

import { send } from 'payhost:connector/http@0.3.0';
import { get as config } from 'payhost:connector/config@0.3.0';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A literal part: text as bytes. */
const literal = (text) => ({ tag: 'literal', val: encoder.encode(text) });
/** A secret, by name: the host writes it as it sends. */
const secret = (name) => ({ tag: 'secret', val: { name, encoding: 'raw' } });
/** Atlas's `paymentMethod` numbers. */
const METHOD_NUMBER = { balance: 1, account: 4 };

/**
 * Atlas's `status` codes (supplier error guide), as one table: each row is
 * [state, kind, retryable]. A payment that may be under way or may have
 * been taken is `unknown`, never `failed`.
 */
const CODES = {
  400: ['failed', 'invalid-request'],
  401: ['failed', 'order-expired'],
  402: ['failed', 'already-paid'],
  403: ['failed', 'method-not-supported'],
  404: ['failed', 'already-paid'],
  405: ['failed', 'invalid-order-state'],
  406: ['unknown', 'in-progress'],
  407: ['failed', 'invalid-request'],
  408: ['failed', 'invalid-request'],
  409: ['failed', 'invalid-request'],
  410: ['failed', 'invalid-request'],
  411: ['failed', 'declined'],
  412: ['failed', 'method-not-supported'],
  413: ['failed', 'card-rejected'],
  414: ['failed', 'card-rejected'],
  415: ['failed', 'invalid-order-state'],
  900: ['failed', 'auth-failed'],
  901: ['failed', 'invalid-request'],
  902: ['failed', 'auth-failed'],
  9999: ['unknown', 'supplier-unavailable'],
};

function outcome(state, fields = {}) {
  return {
    state,
    supplierReference: fields.reference,
    charged: undefined,
    supplierCode: fields.code,
    supplierMessage: fields.message,
    error: fields.error,
    details: fields.details ?? [],
  };
}

function error(kind, message, code) {
  return { kind, retryable: false, supplierCode: code, message };
}

/** An answer that cannot be read after the request went out: unknown. */
function unreadable(status, what) {
  return outcome('unknown', {
    error: error('protocol', `HTTP ${status}: ${what}`),
  });
}

/** The body: JSON text, one literal part. */
function body(request) {
  return [
    literal(
      JSON.stringify({
        orderNo: request.orderId,
        paymentMethod: METHOD_NUMBER[request.method.tag],
        clientOrderNo: request.clientOrderId ?? null,
        requestSource: config('request_source') ?? null,
      }),
    ),
  ];
}

function read(response) {
  let answer;
  try {
    answer = JSON.parse(decoder.decode(response.body));
  } catch {
    return unreadable(response.status, 'not the JSON answer Atlas documents');
  }
  const status = answer?.status;
  if (!Number.isInteger(status)) {
    return unreadable(response.status, 'the answer has no integer `status`');
  }
  const code = String(status);
  const message = typeof answer.msg === 'string' ? answer.msg : undefined;
  if (status === 0) {
    if (response.status < 200 || response.status > 299) {
      return unreadable(response.status, 'a success status with an HTTP error status');
    }
    return outcome('succeeded', {
      code,
      message,
      reference: typeof answer.orderNo === 'string' ? answer.orderNo : '',
      details: [['ticketing', 'pending']],
    });
  }
  const [state, kind] = CODES[status] ?? ['unknown', 'unknown-supplier-code'];
  const text = message ?? `Atlas status ${status}`;
  return outcome(state, { code, message, error: error(kind, text, code) });
}

/** Whether an HTTP error may have reached the supplier. */
const MAY_HAVE_BEEN_SENT = new Set(['timeout', 'broken', 'too-large']);

export const connector = {
  info() {
    return {
      name: 'atlas-js',
      version: '1.0.0',
      supplier: 'Atlas (atriptech), in JavaScript',
      // Balance and account only: componentize-js cannot yet lift a card,
      // whose number and CVV are `sealed` resources (README.md).
      methods: ['balance', 'account'],
      secrets: ['client_id', 'client_secret'],
      configKeys: ['base_url', 'request_source'],
      hosts: ['config:base_url'],
      // Where each hidden value goes (contract 0.3.0): the operator grants these.
      placements: [
        { value: 'secret:client_id', request: 'POST **/pay.do', at: 'header:x-atlas-client-id', encoding: 'raw' },
        { value: 'secret:client_secret', request: 'POST **/pay.do', at: 'header:x-atlas-client-secret', encoding: 'raw' },
      ],
    };
  },

  pay(request) {
    const base = config('base_url');
    if (!base) {
      return outcome('failed', { error: error('invalid-request', 'config `base_url` is not set') });
    }
    if (!(request.method.tag in METHOD_NUMBER)) {
      return outcome('failed', {
        error: error('method-not-supported', 'this connector takes balance and account payments'),
      });
    }
    let response;
    try {
      response = send({
        method: 'post',
        url: [literal(`${base.replace(/\/+$/, '')}/pay.do`)],
        headers: [
          { name: 'accept', value: [literal('application/json')] },
          { name: 'content-type', value: [literal('application/json')] },
          { name: 'x-atlas-client-id', value: [secret('client_id')] },
          { name: 'x-atlas-client-secret', value: [secret('client_secret')] },
        ],
        body: body(request),
        timeoutMs: undefined,
      });
    } catch (e) {
      const failure = e?.payload ?? { tag: 'broken', val: String(e) };
      const sent = MAY_HAVE_BEEN_SENT.has(failure.tag);
      return outcome(sent ? 'unknown' : 'failed', {
        error: error(failure.tag === 'timeout' ? 'timeout' : sent ? 'protocol' : 'denied', `${failure.tag}: ${failure.val}`),
      });
    }
    return read(response);
  },

  query(orderId) {
    throw error('unsupported', `Atlas has no payment query (order ${orderId})`);
  },
};
