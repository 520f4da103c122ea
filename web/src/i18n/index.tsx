import { createContext, useContext, useEffect, useMemo, type ReactNode } from 'react';
import type { Locale } from '../lib/types';
import { en, type MessageKey } from './en';
import { zhCN } from './zh-CN';

export type { MessageKey } from './en';

const catalogs: Record<Locale, Record<MessageKey, string>> = { en, 'zh-CN': zhCN };

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

/** Looks a string up and fills its `{name}` placeholders. */
export function translate(locale: Locale, key: MessageKey, values?: Record<string, string | number>): string {
  const text = catalogs[locale][key] ?? en[key];
  return values ? text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole)) : text;
}

interface I18n {
  locale: Locale;
  t: Translate;
}

const I18nContext = createContext<I18n>({ locale: 'en', t: (key, values) => translate('en', key, values) });

export function I18nProvider({ locale, children }: { locale: Locale; children: ReactNode }) {
  const value = useMemo<I18n>(() => ({ locale, t: (key, values) => translate(locale, key, values) }), [locale]);
  // Screen readers and the browser's font choice for CJK text follow the page language.
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  return useContext(I18nContext);
}

export const locales: { value: Locale; label: string }[] = [
  { value: 'en', label: 'English' },
  { value: 'zh-CN', label: '简体中文' },
];
