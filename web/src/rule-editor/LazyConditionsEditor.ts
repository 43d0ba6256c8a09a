import { lazy } from 'react';

/** The condition editor, loaded on first use: react-querybuilder is the heaviest part of the editor. */
export const ConditionsEditor = lazy(() => import('./ConditionsEditor'));
