import { render } from 'solid-js/web';
import { dropEarlySocket } from '../net/early-socket.ts';
import { App } from './App.tsx';
import './styles.css';

const root = document.getElementById('app');
if (root) render(() => <App />, root);
// The app has rendered: a controller joining at once has taken its early socket by now.
dropEarlySocket();
