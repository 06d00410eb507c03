/**
 * The page's first script: the build inlines it into index.html (vite.config.ts, scripts/inline-script.ts),
 * so it runs as the HTML is parsed, while the app's code is still loading. A returning player's page
 * (a room's link, a name remembered: the page will join without asking) opens its signaling socket
 * and sends its join now; the app takes the socket over, with the welcome usually waiting in it
 * (client/net/early-socket.ts). Every other page does nothing here.
 */
import { openEarlySocket } from '../net/early-socket.ts';
import { defaultSignalingUrl, joinText } from '../net/join.ts';
import { controllerJoin, joinsAtOnce } from '../state/returning-player.ts';
import { savedColor, savedDeviceId, savedName } from '../state/storage.ts';
import { routeOf } from './routes.ts';

const route = routeOf(location.pathname);
const room = route.page === 'join' ? route.room : null;
// A browser that has joined before (its id made, a name remembered) is the quick test. The name's full
// check (the server's rule: some ms on a phone that is loading a page) is made while the socket
// connects, and a name that fails it closes the socket.
const device = savedDeviceId();
if (room !== null && device !== null && savedName() !== '') {
  openEarlySocket(defaultSignalingUrl(location), () =>
    joinsAtOnce(room) ? joinText(controllerJoin(room, device, savedName(), savedColor())) : null,
  );
}
