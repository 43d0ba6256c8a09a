import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `vite build web`: root is web/, output web/dist (served by the API at /, see src/api/web.ts).
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The API's CSP has no 'unsafe-inline': no inlined scripts; small assets stay files too.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 400,
  },
});
