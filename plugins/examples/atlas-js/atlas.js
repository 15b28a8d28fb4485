// payhost connector for Atlas (atriptech), in JavaScript: the Rust
// connector's twin (plugins/atlas), built from the same WIT with
// componentize-qjs. `POST {base_url}/pay.do`, JSON, credentials in the
// `x-atlas-client-id` and `x-atlas-client-secret` headers and a card's
// number and CVV in the body, all written by the host: this code names
// them and never holds them.

import { send } from 'payhost:connector/http@0.3.0';
import { get as config } from 'payhost:connector/config@0.3.0';
import {
  Code,
  error,
  exchange,
  failed,
  integer,
  isSuccess,
  json,
  parts,
  placement,
  readObject,
  sealed,
  secret,
  succeeded,
  unreadable,
  wholeNumber,
} from '../../sdk-js/payhost.js';

// ---- building the request ----

/** Atlas's `paymentMethod` numbers. */
const METHOD_NUMBER = { balance: 1, card: 3, account: 4, 'merchant-of-record': 5 };

/** `n` with at least two digits. */
const twoDigits = (n) => String(n).padStart(2, '0');

/** The value of a request attribute, if given. */
const attribute = (request, name) => request.attributes.find(([key]) => key === name)?.[1];

/**
 * The `creditCard` object: two-digit month and year, CVV `null` when
 * absent (the document asks for `null`, not `""`). The number and the CVV
 * are sealed: the host writes them as JSON strings.
 */
function creditCard(card, request) {
  const address = card.billingAddress ?? undefined;
  const object = {
    cardExpireMonth: twoDigits(card.expiryMonth),
    cardExpireYear: twoDigits(card.expiryYear % 100),
    cardHolderFirstName: card.holderFirstName,
    cardHolderLastName: card.holderLastName,
    cardHolderCountry: address?.country ?? null,
    cardHolderProvince: address?.region ?? null,
    cardHolderCity: address?.city ?? null,
    cardHolderPostCode: address?.postalCode ?? null,
    cardHolderAddress: address?.street ?? null,
    reusable: card.reusable,
  };
  // A whole number of at most u64's range, written with its digits.
  const limit = attribute(request, 'payment-limit');
  if (limit !== undefined && /^\+?[0-9]+$/.test(limit) && BigInt(limit) <= 18446744073709551615n) {
    object.paymentLimit = wholeNumber(BigInt(limit));
  }
  const ip = attribute(request, 'three-ds-ip');
  if (ip !== undefined) object.threeDS = { ip };
  object.cardNumber = sealed(card.number, 'json-string');
  object.cardCVV = card.cvv == null ? null : sealed(card.cvv, 'json-string');
  return object;
}

/** The body, or a connector error when the request cannot be made. */
function body(request) {
  const object = {
    orderNo: request.orderId,
    paymentMethod: METHOD_NUMBER[request.method.tag],
    clientOrderNo: request.clientOrderId ?? null,
    requestSource: config('request_source') ?? null,
  };
  const card = request.method.val;
  if (request.method.tag === 'card') {
    if (card.cvv == null) {
      throw error('invalid-request', 'Atlas needs the CVV for a VCC passthrough payment');
    }
    object.creditCard = creditCard(card, request);
  } else if (request.method.tag === 'merchant-of-record') {
    object.creditCard = creditCard(card, request);
  }
  return json(object);
}

// ---- reading the answer ----

/**
 * Atlas's `status` codes (supplier error guide), as one table. A payment
 * that may be under way or may have been taken is `unknown`, never `failed`.
 */
const CODES = {
  400: Code.failed('invalid-request'),
  401: Code.failed('order-expired'),
  402: Code.failed('already-paid'),
  403: Code.failed('method-not-supported'),
  404: Code.failed('already-paid'),
  405: Code.failed('invalid-order-state'),
  406: Code.unknown('in-progress'),
  407: Code.failed('invalid-request'),
  408: Code.failed('invalid-request'),
  409: Code.failed('invalid-request'),
  410: Code.failed('invalid-request'),
  411: Code.failed('declined'),
  412: Code.failed('method-not-supported'),
  413: Code.failed('card-rejected'),
  414: Code.failed('card-rejected'),
  415: Code.failed('invalid-order-state'),
  900: Code.failed('auth-failed'),
  901: Code.failed('invalid-request'),
  902: Code.failed('auth-failed'),
  9999: Code.unknown('supplier-unavailable'),
};

function outcome(response) {
  const answer = readObject(response);
  if (answer === undefined) {
    return unreadable(response, 'not the JSON answer Atlas documents');
  }
  // Success is `status == 0` and nothing else; `msg` is for people only.
  const status = integer(answer.raw.get('status'));
  if (status === undefined) {
    return unreadable(response, 'the answer has no integer `status` (a plain literal)');
  }
  const code = String(status);
  const message = typeof answer.value.msg === 'string' ? answer.value.msg : undefined;
  if (status === 0) {
    if (!isSuccess(response)) {
      return unreadable(response, 'a success status with an HTTP error status');
    }
    return succeeded({
      code,
      message,
      reference: typeof answer.value.orderNo === 'string' ? answer.value.orderNo : '',
      details: [['ticketing', 'pending']],
    });
  }
  return (Object.hasOwn(CODES, status) ? CODES[status] : Code.unknown('unknown-supplier-code')).said(code, message);
}

export const connector = {
  info() {
    return {
      name: 'atlas-js',
      version: '1.1.0',
      supplier: 'Atlas (atriptech), in JavaScript',
      methods: ['balance', 'card', 'account', 'merchant-of-record'],
      secrets: ['client_id', 'client_secret'],
      configKeys: ['base_url', 'request_source'],
      hosts: ['https://sandbox.atriptech.com', 'https://*.atriptech.com', 'config:base_url'],
      // Where each hidden value goes, from the supplier's documents: the
      // operator grants these (`payhost plugins inspect` prints them).
      placements: [
        placement('secret:client_id', 'POST **/pay.do', 'header:x-atlas-client-id', 'raw'),
        placement('secret:client_secret', 'POST **/pay.do', 'header:x-atlas-client-secret', 'raw'),
        placement('card:number', 'POST **/pay.do', 'json:/creditCard/cardNumber', 'json-string'),
        placement('card:cvv', 'POST **/pay.do', 'json:/creditCard/cardCVV', 'json-string'),
      ],
    };
  },

  pay(request) {
    const base = config('base_url');
    if (!base) {
      return failed(error('invalid-request', 'config `base_url` is not set'));
    }
    let payload;
    try {
      payload = body(request);
    } catch (why) {
      return failed(why);
    }
    return exchange(
      send,
      {
        method: 'post',
        url: parts(`${base.replace(/\/+$/, '')}/pay.do`),
        headers: [
          { name: 'accept', value: parts('application/json') },
          { name: 'accept-encoding', value: parts('gzip') },
          { name: 'content-type', value: parts('application/json') },
          { name: 'x-atlas-client-id', value: [secret('client_id')] },
          { name: 'x-atlas-client-secret', value: [secret('client_secret')] },
        ],
        body: payload,
      },
      outcome,
    );
  },

  query(orderId) {
    throw error('unsupported', `Atlas has no payment query (order ${orderId})`);
  },
};
