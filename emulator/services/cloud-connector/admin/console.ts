/**
 * The admin console: one HTML page, no framework. A small script reads the REST configuration API of the same
 * instance (same origin, the browser's Basic credentials) and shows each subaccount's connector: its tunnel state,
 * system mappings and resources, with a button that takes it offline or back online (`PUT …/state`). Everything
 * it shows is set as text, never as HTML. The Origin rule of the port (api.ts) keeps other sites from using it.
 */
export function consolePage(base: string): string {
  const config = JSON.stringify({ base }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Cloud Connector (emulator) — Administration</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1d2d3e; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; } td, th { border: 1px solid #c5cdd3; padding: .25rem .6rem; text-align: left; }
.state { font-weight: bold; } .Connected { color: #107e3e; } .Disconnected, .ConnectFailure { color: #bb0000; }
.subaccount { border: 1px solid #c5cdd3; border-radius: .4rem; padding: .5rem 1rem; margin: 1rem 0; }
#message { color: #bb0000; }
</style>
</head>
<body>
<h1>Cloud Connector <small id="role"></small></h1>
<p>Instance <code id="base"></code> · version <span id="version"></span></p>
<p id="message" role="alert"></p>
<form id="password" hidden>
  <p>The initial password must be changed before first use.</p>
  <label>Current password <input type="password" name="oldPassword" autocomplete="current-password"></label>
  <label>New password <input type="password" name="newPassword" autocomplete="new-password" minlength="8"></label>
  <button type="submit">Change password</button>
</form>
<div id="subaccounts" aria-live="polite"></div>
<script>
const { base } = ${config};
const api = base + '/api/v1';
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
};
async function call(method, path, body) {
  const response = await fetch(api + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!response.ok) throw Object.assign(new Error((data && data.message) || response.statusText), { status: response.status });
  return data;
}
async function render() {
  document.getElementById('base').textContent = base;
  const message = document.getElementById('message');
  message.textContent = '';
  try {
    document.getElementById('version').textContent = (await call('GET', '/connector/version')).version;
    document.getElementById('role').textContent = '(' + (await call('GET', '/configuration/connector/haRole')) + ')';
    const list = await call('GET', '/configuration/subaccounts');
    const container = document.getElementById('subaccounts');
    const sections = [];
    for (const entry of list) {
      const path = '/configuration/subaccounts/' + entry.regionHost + '/' + entry.subaccount;
      const sub = await call('GET', path);
      const mappings = await call('GET', path + '/systemMappings');
      const online = sub.tunnel.state !== 'Disconnected';
      const toggle = el('button', { type: 'button', 'data-subaccount': entry.subaccount }, online ? 'Take offline' : 'Bring online');
      toggle.addEventListener('click', async () => {
        toggle.disabled = true;
        try {
          await call('PUT', path + '/state', { connected: !online });
        } catch (err) {
          message.textContent = err.message;
        }
        await render();
      });
      const rows = [];
      for (const m of mappings) {
        const resources = await call('GET', path + '/systemMappings/' + m.virtualHost + ':' + m.virtualPort + '/resources');
        const shown = resources.map((r) => r.id + (r.exactMatchOnly ? '' : ' (and sub-paths)') + (r.enabled ? '' : ' [disabled]')).join(', ') || 'none';
        rows.push(el('tr', {}, el('td', {}, m.virtualHost + ':' + m.virtualPort), el('td', {}, m.localHost + ':' + m.localPort), el('td', {}, m.protocol), el('td', {}, shown)));
      }
      sections.push(
        el(
          'section',
          { class: 'subaccount', 'data-subaccount': entry.subaccount },
          el('h2', {}, sub.displayName + ' '),
          el('p', {}, 'Subaccount ' + entry.subaccount + ' · region ' + entry.regionHost + ' · location ID "' + entry.locationID + '"'),
          el('p', {}, 'Tunnel: ', el('span', { class: 'state ' + sub.tunnel.state, 'data-state': sub.tunnel.state }, sub.tunnel.state), ' ', toggle),
          el('table', {}, el('tr', {}, el('th', {}, 'Virtual host'), el('th', {}, 'Internal host'), el('th', {}, 'Protocol'), el('th', {}, 'Resources')), ...rows),
        ),
      );
    }
    if (!sections.length) sections.push(el('p', {}, 'No subaccount is configured on this instance.'));
    container.replaceChildren(...sections);
    document.body.dataset.ready = 'true';
  } catch (err) {
    message.textContent = err.message;
    if (err.status === 403 && /initial password/.test(err.message)) document.getElementById('password').hidden = false;
    document.body.dataset.ready = 'true';
  }
}
document.getElementById('password').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    await call('PUT', '/configuration/connector/authentication/basic', { oldPassword: form.get('oldPassword'), newPassword: form.get('newPassword') });
    document.getElementById('message').textContent = 'Password changed: sign in again with the new one.';
    event.target.hidden = true;
  } catch (err) {
    document.getElementById('message').textContent = err.message;
  }
});
render();
</script>
</body>
</html>
`;
}
