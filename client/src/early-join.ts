/**
 * Evaluated before the rest of the app (main.tsx imports it first, and modules run in import order):
 * a returning player's page (a room's link, a name remembered) opens its signaling socket now, before
 * the app's code has run. See client/net/early-socket.ts.
 */
import { openEarlySocket } from '../net/early-socket.ts';
import { defaultSignalingUrl } from '../net/signaling.ts';
import { joinsAtOnce } from '../state/returning-player.ts';
import { routeOf } from './routes.ts';

const route = routeOf(location.pathname);
if (route.page === 'join' && joinsAtOnce(route.room)) openEarlySocket(defaultSignalingUrl(location));

export { whenEarlySocketSettles } from '../net/early-socket.ts';
