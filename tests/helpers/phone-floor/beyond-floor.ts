/**
 * A module beyond the phones' floor on purpose, for tests/scripts/phone-floor.test.ts, which adds
 * it to a page's imports in a test build: the Badging API (`navigator.setAppBadge`) and a regex lookbehind, both
 * Safari 16.4+ per MDN's compat data (the floor is iOS Safari 15.4). It runs on import, so the
 * build keeps it.
 */
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') void navigator.setAppBadge(1);
  document.title = document.title.replace(/(?<=#)\w+/, '');
});
