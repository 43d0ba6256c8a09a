import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { Router } from 'wouter';
import { App } from './App';
import { SessionProvider } from './auth';
import { ApiProblem } from './api/client';
import './styles.css';

/** Every page of the app is under /ui; the API serves index.html at / too. */
export const BASE = '/ui';
if (!window.location.pathname.startsWith(`${BASE}/`)) window.history.replaceState(null, '', `${BASE}/rules`);

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx is the API's answer, not a blip: show it at once rather than retry it.
      retry: (count, err) => !(err instanceof ApiProblem && err.status < 500) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <Router base={BASE}>
          <App />
        </Router>
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
