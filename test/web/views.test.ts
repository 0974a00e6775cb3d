import { describe, expect, it } from 'vitest';
import { createViews } from '../../src/web/views.js';
import { localTime } from '../../src/domain/local-time.js';

describe('page helpers', () => {
  it('shows NHS numbers 3-3-4 in one unbreakable run, escaped', () => {
    const views = createViews();
    expect(views.renderString('{{ n | nhsNumber }}', { n: '9434765919' })).toBe('<span class="app-nhs-number">943 476 5919</span>');
    expect(views.renderString('{{ n | nhsNumber }}', { n: '<b>' })).toBe('<span class="app-nhs-number">&lt;b&gt;</span>');
  });

  it('gives times in local time with the zone named, in the one form the CLI and summaries use', () => {
    expect(localTime(new Date('2026-07-01T23:30:00Z'), 'Europe/London')).toBe('2 Jul 2026 00:30 BST');
    expect(localTime(new Date('2026-12-06T10:15:00Z'), 'Europe/London')).toBe('6 Dec 2026 10:15 GMT');
  });
});
