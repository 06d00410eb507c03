// biome-ignore-all assist/source/organizeImports: early-join.ts must be imported (so evaluated) before the app.
// First: a returning player's signaling socket opens before the rest of the app runs (early-join.ts).
import { whenEarlySocketSettles } from './early-join.ts';
import { render } from 'solid-js/web';
import { App } from './App.tsx';
import './styles.css';

// A returning player's page renders once its socket is open, so its join is not sent after the render.
whenEarlySocketSettles(() => render(() => <App />, document.getElementById('app') as HTMLElement));
