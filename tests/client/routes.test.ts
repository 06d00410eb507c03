import { describe, expect, it } from 'vitest';
import { routeOf } from '../../client/src/routes.ts';

describe('routeOf', () => {
  it('reads the app’s pages from the path', () => {
    expect(routeOf('/')).toEqual({ page: 'start' });
    expect(routeOf('/daw')).toEqual({ page: 'daw' });
    expect(routeOf('/join')).toEqual({ page: 'join', room: null, typed: null });
    expect(routeOf('/join/acd-ef3')).toEqual({ page: 'join', room: 'ACDEF3', typed: 'acd-ef3' });
    expect(routeOf('/join/ACD%20EF3')).toEqual({ page: 'join', room: 'ACDEF3', typed: 'ACD EF3' });
    expect(routeOf('/join/nope')).toEqual({ page: 'join', room: null, typed: 'nope' });
  });

  it('treats a malformed escape in a link or QR code as no room, instead of throwing', () => {
    for (const path of ['/join/%', '/join/%E0%A4%A', '/join/%zz', '/join/abc%', '/join/%ED%A0%80']) {
      expect(routeOf(path), path).toEqual({ page: 'join', room: null, typed: null });
    }
  });
});
