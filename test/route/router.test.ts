// Proves routing: {db}/{table}/{topic}/{prefix} patterns, names made legal for S3 Tables, anchored include/exclude regexes, and config errors that name the field.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FloeError } from '../../src/errors.js';
import { Router, s3TablesName, sourceFromTopic } from '../../src/route/router.js';

describe('s3TablesName', () => {
  it('lowercases and keeps only [a-z0-9_]', () => {
    assert.equal(s3TablesName('Orders'), 'orders');
    assert.equal(s3TablesName('Order Items-2024'), 'order_items_2024');
    assert.equal(s3TablesName('a.b$c'), 'a_b_c');
    assert.equal(s3TablesName('ünïcødé'), 'n_c_d');
  });

  it('trims leading and trailing underscores; an empty result becomes "x"', () => {
    assert.equal(s3TablesName('__tmp__'), 'tmp');
    assert.equal(s3TablesName('-orders-'), 'orders');
    assert.equal(s3TablesName('___'), 'x');
    assert.equal(s3TablesName(''), 'x');
    assert.equal(s3TablesName('a__b'), 'a__b');
  });

  it('cuts names to 255 characters without a trailing underscore', () => {
    assert.equal(s3TablesName('a'.repeat(300)), 'a'.repeat(255));
    assert.equal(s3TablesName(`${'a'.repeat(254)}-${'b'.repeat(10)}`), 'a'.repeat(254));
    assert.equal(s3TablesName('A'.repeat(255)), 'a'.repeat(255));
  });
});

describe('Router', () => {
  it('routes {db}.{table}', () => {
    const r = new Router({ pattern: '{db}.{table}' });
    assert.deepEqual(r.route('cdc.shop.orders', 'shop', 'orders'), { namespace: ['shop'], name: 'orders' });
    assert.deepEqual(r.route('cdc.Shop-DB.Order Items', 'Shop-DB', 'Order Items'), { namespace: ['shop_db'], name: 'order_items' });
  });

  it('routes with fixed parts and {db}_{table}', () => {
    const r = new Router({ pattern: 'analytics.{db}_{table}' });
    assert.deepEqual(r.route('cdc.shop.orders', 'shop', 'orders'), { namespace: ['analytics'], name: 'shop_orders' });
  });

  it('routes {topic} with dots as underscores', () => {
    const r = new Router({ pattern: 'raw.{topic}' });
    assert.deepEqual(r.route('cdc.shop.orders', 'shop', 'orders'), { namespace: ['raw'], name: 'cdc_shop_orders' });
  });

  it('routes {prefix} (the topic up to its first dot)', () => {
    const r = new Router({ pattern: '{prefix}.{db}_{table}' });
    assert.deepEqual(r.route('cdc.shop.orders', 'shop', 'orders'), { namespace: ['cdc'], name: 'shop_orders' });
    assert.deepEqual(r.route('Prod-Main.shop.orders', 'shop', 'orders'), { namespace: ['prod_main'], name: 'shop_orders' });
    assert.deepEqual(r.route('single', 'shop', 'orders'), { namespace: ['single'], name: 'shop_orders' });
  });

  it('sanitizes both the namespace and the table name, each at most 255 characters', () => {
    const r = new Router({ pattern: '{db}.{table}' });
    const long = 'T'.repeat(400);
    assert.deepEqual(r.route('t', `__${long}`, `${long}__`), { namespace: ['t'.repeat(255)], name: 't'.repeat(255) });
    assert.deepEqual(r.route('t', '', ''), { namespace: ['x'], name: 'x' });
  });

  it('include and exclude are anchored regexes over db.table; exclude wins', () => {
    const r = new Router({ pattern: '{db}.{table}', include: ['shop\\..*', 'crm\\.customers'], exclude: ['shop\\.tmp_.*'] });
    assert.deepEqual(r.route('cdc.shop.orders', 'shop', 'orders'), { namespace: ['shop'], name: 'orders' });
    assert.deepEqual(r.route('cdc.crm.customers', 'crm', 'customers'), { namespace: ['crm'], name: 'customers' });
    assert.equal(r.route('cdc.crm.customers_old', 'crm', 'customers_old'), null); // anchored at the end
    assert.equal(r.route('cdc.xshop.orders', 'xshop', 'orders'), null); // anchored at the start
    assert.equal(r.route('cdc.shop.tmp_import', 'shop', 'tmp_import'), null);
    assert.equal(r.route('cdc.hr.people', 'hr', 'people'), null);
  });

  it('an empty include list includes everything but the excluded', () => {
    const r = new Router({ pattern: '{db}.{table}', exclude: ['.*\\.audit_log'] });
    assert.deepEqual(r.route('cdc.hr.people', 'hr', 'people'), { namespace: ['hr'], name: 'people' });
    assert.equal(r.route('cdc.hr.audit_log', 'hr', 'audit_log'), null);
    assert.equal(r.route('cdc.shop.audit_log', 'shop', 'audit_log'), null);
  });

  it('returns the same answer for the same source, per topic', () => {
    const r = new Router({ pattern: '{prefix}.{table}' });
    const a = r.route('a.shop.orders', 'shop', 'orders');
    assert.equal(r.route('a.shop.orders', 'shop', 'orders'), a);
    assert.deepEqual(r.route('b.shop.orders', 'shop', 'orders'), { namespace: ['b'], name: 'orders' });
  });

  it('rejects a pattern without a namespace, naming route.pattern', () => {
    assert.throws(
      () => new Router({ pattern: '{db}_{table}' }),
      (e: unknown) => e instanceof FloeError && e.code === 'config_invalid' && e.details.field === 'route.pattern' && e.message.includes('route.pattern "{db}_{table}"'),
    );
  });

  it('rejects invalid regexes, naming route.include or route.exclude', () => {
    assert.throws(
      () => new Router({ pattern: '{db}.{table}', include: ['shop\\..*', 'crm.(customers'] }),
      (e: unknown) => e instanceof FloeError && e.code === 'config_invalid' && e.details.field === 'route.include' && /^route\.include: invalid regular expression "crm\.\(customers"/.test(e.message),
    );
    assert.throws(
      () => new Router({ pattern: '{db}.{table}', exclude: ['[a-'] }),
      (e: unknown) => e instanceof FloeError && e.details.field === 'route.exclude' && /^route\.exclude: invalid regular expression "\[a-"/.test(e.message),
    );
  });
});

describe('sourceFromTopic', () => {
  it('reads db and table from <prefix>.<db>.<table>', () => {
    assert.deepEqual(sourceFromTopic('cdc.shop.orders'), { db: 'shop', table: 'orders' });
    assert.deepEqual(sourceFromTopic('cdc.region.shop.orders'), { db: 'shop', table: 'orders' });
    assert.deepEqual(sourceFromTopic('shop.orders'), { db: 'shop', table: 'orders' });
    assert.deepEqual(sourceFromTopic('orders'), { db: 'default', table: 'orders' });
  });
});

describe('Router with dots inside source names', () => {
  it('keeps the namespace/table split of the pattern', () => {
    const r = new Router({ pattern: '{db}.{table}' });
    assert.deepEqual(r.route('cdc.shop.a.b', 'shop', 'a.b'), { namespace: ['shop'], name: 'a_b' });
  });
});
