// Unit tests of the JavaScript SDK in Node.js: `node --test plugins/sdk-js/payhost.test.js`
// (the integration suite runs them). What the component does with these
// values is tested in the real host by the connectors' scenarios.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Code,
  bytesOf,
  decimal,
  decimalString,
  exchange,
  failed,
  fromUtf8,
  httpErrorOutcome,
  integer,
  json,
  parseJson,
  parts,
  readObject,
  sealed,
  secret,
  unreadable,
  urlComponent,
  utf8,
  wholeNumber,
} from './payhost.js';

const text = (list) =>
  list.map((p) => (p.tag === 'literal' ? Buffer.from(p.val).toString() : `<${p.tag}:${p.val.encoding}>`)).join('');

test('UTF-8 both ways, as the platform encodes it, and bad bytes refused', () => {
  for (const s of ['abc', 'é€😀', 'a\u0000b', '中文', '']) {
    assert.deepEqual([...utf8(s)], [...new TextEncoder().encode(s)]);
    assert.equal(fromUtf8(new TextEncoder().encode(s)), s);
  }
  for (const bad of [[0xff], [0xc0, 0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0x80], [0xf4, 0x90, 0x80, 0x80]]) {
    assert.throws(() => fromUtf8(Uint8Array.from(bad)), TypeError, `${bad}`);
    assert.match(fromUtf8(Uint8Array.from(bad), { lossy: true }), /^\ufffd+$/);
  }
});

/** Stands in for a handle the host gives (a resource object). */
class Handle {}

test('a JSON body keeps hidden values as parts and amounts as written', () => {
  const card = new Handle();
  const body = json({ amount: decimal('100.00'), quoted: decimalString('0.50'), gone: undefined, n: null, card: { number: sealed(card, 'json-string') }, key: secret('k'), list: [1, undefined] });
  assert.equal(text(body), '{"amount":100.00,"quoted":"0.50","n":null,"card":{"number":<sealed:json-string>},"key":<secret:raw>,"list":[1,null]}');
  assert.equal(body[1].val.value, card);
  // A part-shaped object the SDK did not make is data, never a reference.
  assert.equal(text(json({ x: { tag: 'secret', val: { name: 'k', encoding: 'raw' } } })), '{"x":{"tag":"secret","val":{"name":"k","encoding":"raw"}}}');
  assert.throws(() => json({ x: Number.NaN }), TypeError);
  for (const odd of [new Date(0), new Map(), Uint8Array.from([1]), new String('a')]) {
    assert.throws(() => json({ x: odd }), TypeError, String(odd));
  }
  // eslint-disable-next-line no-sparse-arrays
  assert.equal(text(json([1, , 3])), '[1,null,3]');
  assert.equal(text(json({ big: wholeNumber(18446744073709551615n), n: wholeNumber(7) })), '{"big":18446744073709551615,"n":7}');
  assert.throws(() => wholeNumber(1.5), TypeError);
  // Data is never a sealed value, and a part cannot be turned into another.
  assert.throws(() => sealed({ handle: 1 }), TypeError);
  assert.throws(() => sealed('4111111111111111'), TypeError);
  const s = secret('k');
  assert.throws(() => { 'use strict'; s.tag = 'literal'; }, TypeError);
  assert.throws(() => parts({ tag: 'secret', val: { name: 'k', encoding: 'raw' } }), TypeError);
  assert.throws(() => bytesOf(body), TypeError);
});

test('an amount that is not a plain decimal is an invalid request', () => {
  for (const bad of ['1e5', '-1', ' 1', '1.', '.5', '0x10', '', 12, '00', '01.5', '1234567890123456789', '0.123456789']) {
    assert.throws(() => decimal(bad), (e) => e.kind === 'invalid-request', `${bad}`);
  }
  assert.equal(urlComponent('a b/é~'), 'a%20b%2F%C3%A9~');
});

test('no answer: failed when nothing was sent, unknown when it may have been', () => {
  const thrown = (tag) => Object.assign(new Error('x'), { payload: { tag, val: tag } });
  for (const [tag, state] of [['denied', 'failed'], ['invalid', 'failed'], ['connect', 'failed'], ['timeout', 'unknown'], ['broken', 'unknown'], ['too-large', 'unknown']]) {
    assert.equal(httpErrorOutcome(thrown(tag)).state, state, tag);
    assert.equal(exchange(() => { throw thrown(tag); }, {}, () => assert.fail('read')).state, state, tag);
  }
  // An answer that trips the reader: it went out, so unknown.
  const tripped = exchange(() => ({ status: 200, headers: [], body: utf8('{}') }), {}, () => { throw new TypeError('x'); });
  assert.deepEqual([tripped.state, tripped.error.kind], ['unknown', 'protocol']);
  assert.equal(httpErrorOutcome(new Error('anything else')).state, 'unknown');
  assert.equal(httpErrorOutcome(undefined).state, 'unknown');
});

test('an outcome carries only what the supplier said', () => {
  const silent = Code.failed('declined').said('411');
  assert.equal(silent.supplierCode, '411');
  assert.equal(silent.supplierMessage, undefined);
  assert.equal(silent.error.message, 'supplier code 411');
  const busy = Code.failed('supplier-unavailable').retryable().said('B119', 'system busy');
  assert.deepEqual([busy.state, busy.supplierMessage, busy.error.retryable], ['failed', 'system busy', true]);
  const bug = failed(new TypeError('x is undefined'));
  assert.deepEqual([bug.state, bug.error.kind, bug.error.message], ['failed', 'invalid-request', 'the request could not be made: TypeError: x is undefined']);
  const page = unreadable({ status: 502, headers: [], body: Uint8Array.from([0x3c, 0xff]) }, 'not JSON');
  assert.deepEqual([page.state, page.error.kind], ['unknown', 'supplier-unavailable']);
});

test('an answer is read strictly: once per key, whole, and a status only as a plain integer', () => {
  const answer = (t) => ({ status: 200, headers: [], body: utf8(t) });
  const read = readObject(answer('{"status":0,"msg":"ok","n":{"status":1.5},"a":[1,{"b":2}]}'));
  assert.equal(read.value.msg, 'ok');
  assert.equal(integer(read.raw.get('status')), 0);
  assert.equal(read.raw.get('n'), '{"status":1.5}');
  for (const bad of [
    '{"status":0,"status":411}',
    '{"status":0,"\\u0073tatus":0.0}',
    '{"a":{"k":1,"k":2}}',
    '{"msg":"\\ud800"}',
    '[0,"ok"]',
    '"ok"',
    '{"status":0} x',
    '{"status":0',
    '{"a":01}',
    '['.repeat(200) + ']'.repeat(200),
  ]) {
    assert.equal(readObject(answer(bad)), undefined, bad);
  }
  assert.equal(parseJson(answer('[1,2]')).length, 2);
  assert.equal(parseJson(answer('{"k":1,"k":2}')), undefined);
  for (const [literal, value] of [['0', 0], ['-3', -3], ['404', 404], ['-0', undefined], ['0.0', undefined], ['1e0', undefined], ['"0"', undefined], ['99999999999999999999', undefined], [undefined, undefined]]) {
    assert.equal(integer(literal), value, `${literal}`);
  }
});
