import { z } from 'zod';
import { renderRoleTable, routeAllows, socketAllows, tableEnd, tableStart, withRoleTable } from '../../scripts/security-table';
import type { Role } from '../../src/platform/http/principal';
import type { RegisteredRoute } from '../../src/platform/http/route';

const route = (method: RegisteredRoute['method'], path: string, access: RegisteredRoute['access']): RegisteredRoute => ({
  method,
  path,
  summary: 'Does | things',
  tag: 'Test',
  access,
  params: z.object({}),
});

describe('role table rendering', () => {
  it('when routes are rendered, then rows are sorted by path and method, pipes are escaped and public rows are open to everyone', () => {
    const table = renderRoleTable(
      [route('post', '/b', ['admin']), route('get', '/b', 'public'), route('get', '/a', ['agent', 'integration'])],
      { 'x:do': new Set<Role>(['agent', 'integration']) },
    );
    const rows = table.split('\n').filter((line) => line.startsWith('| `'));
    expect(rows).toEqual([
      '| `GET /a` | Does \\| things | — | — | ✓ | — | ✓ | — |',
      '| `GET /b` | Does \\| things | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |',
      '| `POST /b` | Does \\| things | ✓ | — | — | — | — | — |',
      // API keys never open a socket, so an integration entry in a socket role set grants nothing.
      '| `x:do` | — | — | ✓ | — | — | — |',
    ]);
  });

  it('when a caller has no credentials, then only public routes and no socket action allow it', () => {
    expect(routeAllows(route('get', '/x', 'public'), 'anonymous')).toBe(true);
    expect(routeAllows(route('get', '/x', ['admin', 'agent']), 'anonymous')).toBe(false);
    expect(socketAllows(new Set<Role>(['admin']), 'anonymous')).toBe(false);
  });

  it('when the document has the markers, then only what is between them is replaced', () => {
    const document = `# Doc\n\nbefore\n${tableStart}\nold\n${tableEnd}\nafter\n`;
    expect(withRoleTable(document, 'new')).toBe(`# Doc\n\nbefore\n${tableStart}\nnew\n${tableEnd}\nafter\n`);
    expect(withRoleTable(withRoleTable(document, 'new'), 'new')).toBe(withRoleTable(document, 'new'));
  });

  it('when the markers are missing, then the generator says which markers the document needs', () => {
    expect(() => withRoleTable('# Doc without a table\n', 'new')).toThrow(tableStart);
  });
});
