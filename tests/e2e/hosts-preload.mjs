// Test-only preload (node --import) for the cross-process tests: the host names listed in
// FROST_TEST_HOSTS ("name=address|address,...") resolve to those addresses, in that order, as a
// cluster's DNS answers for a headless Service with several pods; every other name goes to the system
// resolver. It gives one name several loopback addresses without touching /etc/hosts.
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import { isIP } from 'node:net';

const table = new Map(
  (process.env.FROST_TEST_HOSTS ?? '')
    .split(',')
    .filter(Boolean)
    .map((entry) => {
      const [name, addresses] = entry.split('=');
      return [name.toLowerCase(), addresses.split('|').map((address) => ({ address, family: isIP(address) }))];
    }),
);

/** The table's answer for `hostname` under lookup `options`, or undefined for a name it does not hold. */
function answer(hostname, options) {
  const found = table.get(String(hostname).toLowerCase());
  if (!found) return undefined;
  const family = typeof options === 'number' ? options : options?.family;
  const list = family === 4 || family === 6 ? found.filter((a) => a.family === family) : found;
  return list.length > 0 ? list : Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
}

const systemLookup = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
  if (typeof options === 'function') [callback, options] = [options, {}];
  const list = answer(hostname, options);
  if (!list) return systemLookup.call(this, hostname, options, callback);
  process.nextTick(() => {
    if (list instanceof Error) callback(list);
    else if (options?.all) callback(null, list);
    else callback(null, list[0].address, list[0].family);
  });
  return {};
};

const systemPromiseLookup = dns.promises.lookup;
dns.promises.lookup = async function lookup(hostname, options) {
  const list = answer(hostname, options);
  if (!list) return systemPromiseLookup.call(this, hostname, options);
  if (list instanceof Error) throw list;
  return options?.all ? list : list[0];
};

// ESM importers of node:dns and node:dns/promises see the replacements too.
syncBuiltinESMExports();
