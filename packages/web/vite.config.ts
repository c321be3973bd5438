import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev -w @waymark/web` serves the pages with hot reload and forwards API calls to a
// running Waymark server (`npm start`), so the session cookie stays on one origin.
const apiTarget = process.env.WAYMARK_API_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react()],
  base: '/',
  server: {
    proxy: {
      '/api': apiTarget,
      '/healthz': apiTarget,
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
});
