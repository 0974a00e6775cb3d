import { describe, expect, it } from 'vitest';
import { createViews } from '../../src/web/views.js';
import { formatLocalTime } from '../../src/web/local-time.js';

describe('page helpers', () => {
  it('shows NHS numbers 3-3-4 in one unbreakable run, escaped', () => {
    const views = createViews();
    expect(views.renderString('{{ n | nhsNumber }}', { n: '9434765919' })).toBe('<span class="app-nhs-number">943 476 5919</span>');
    expect(views.renderString('{{ n | nhsNumber }}', { n: '<b>' })).toBe('<span class="app-nhs-number">&lt;b&gt;</span>');
  });

  it('gives times in local time with the zone named', () => {
    const format = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short', timeZone: 'Europe/London' });
    expect(formatLocalTime(new Date('2026-07-01T23:30:00Z'), format)).toBe('2 July 2026 at 00:30 BST');
    expect(formatLocalTime(new Date('2026-12-06T10:15:00Z'), format)).toBe('6 December 2026 at 10:15 GMT');
  });
});
