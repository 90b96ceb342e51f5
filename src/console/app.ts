import cytoscape from 'cytoscape';
import { login } from './api.ts';
import { STYLE, sync } from './graph.ts';
import { Model } from './model.ts';
import { showDetails, showHosts } from './panel.ts';
import { ConsoleStream } from './stream.ts';
import { fillPorts, runTrace } from './trace.ts';

const $ = <E extends HTMLElement>(sel: string) => document.querySelector<E>(sel)!;

function setStatus(text: string, error = false): void {
  const el = $('#status');
  el.textContent = text;
  el.classList.toggle('error', error);
}

/** Asks for credentials until the API takes them (MidoNet's login; the answer's cookie carries the token). */
function askLogin(): Promise<void> {
  const section = $('#login');
  section.hidden = false;
  return new Promise((done) => {
    const form = section.querySelector('form')!;
    form.onsubmit = async (e) => {
      e.preventDefault();
      const f = new FormData(form);
      try {
        await login(String(f.get('user')), String(f.get('password')), String(f.get('project') ?? ''));
        section.hidden = true;
        done();
      } catch (err) {
        section.querySelector('.error')!.textContent = (err as Error).message;
      }
    };
  });
}

/** Who the session cookie says we are (no request fails when nobody is logged in yet). */
async function session(): Promise<{ user: string | null; admin: boolean }> {
  const r = await fetch('/console/session', { credentials: 'same-origin' });
  return (await r.json()) as { user: string | null; admin: boolean };
}

async function start(): Promise<void> {
  let me = await session();
  while (!me.user) {
    setStatus('log in');
    await askLogin();
    me = await session();
  }
  if (!me.admin) {
    setStatus(`${me.user} is not an admin: the console shows the whole cloud, which only an admin may follow`, true);
    return;
  }
  const model = new Model();
  const cy = cytoscape({ container: $('#graph'), style: STYLE as cytoscape.StylesheetJson, wheelSensitivity: 0.3 });
  let selected: string | null = null;
  cy.on('tap', 'node', (e) => {
    selected = e.target.id() as string;
    void showDetails($('#details'), model, selected);
  });
  model.onChange(() => {
    sync(cy, model);
    showHosts($('#hosts tbody'), model);
    fillPorts($<HTMLSelectElement>('#trace select[name="inPort"]'), model);
  });
  const traceForm = $<HTMLFormElement>('#trace form');
  traceForm.onsubmit = (e) => {
    e.preventDefault();
    void runTrace(traceForm, cy, $('#trace-result'));
  };
  new ConsoleStream(model, setStatus).start();
  // A handle for operators poking at the page from the browser's devtools (and for its tests).
  (window as unknown as { midonetConsole: unknown }).midonetConsole = { cy, model };
}

void start();
