import { createSignal, lazy, Match, onCleanup, Switch } from 'solid-js';
import { ControllerPage } from '../views/ControllerPage.tsx';
import { StartPage } from '../views/StartPage.tsx';
import { type Route, routeOf } from './routes.ts';

// Phones never load the DAW page's code (and, later, its audio engine).
const DawPage = lazy(() => import('../views/DawPage.tsx').then((module) => ({ default: module.DawPage })));

/** A tiny router: three pages on the history API, no dependency. */
export function App() {
  const [route, setRoute] = createSignal<Route>(routeOf(location.pathname));
  const onPopState = () => setRoute(routeOf(location.pathname));
  window.addEventListener('popstate', onPopState);
  onCleanup(() => window.removeEventListener('popstate', onPopState));

  const navigate = (path: string) => {
    history.pushState(null, '', path);
    setRoute(routeOf(path));
  };
  const joinRoute = () => {
    const current = route();
    return current.page === 'join' ? current : undefined;
  };

  return (
    <Switch fallback={<StartPage navigate={navigate} />}>
      <Match when={route().page === 'daw'}>
        <DawPage navigate={navigate} />
      </Match>
      <Match when={joinRoute()} keyed>
        {(join) => <ControllerPage room={join.room} typed={join.typed} navigate={navigate} />}
      </Match>
    </Switch>
  );
}
