import { Link } from 'wouter';

export default function NotFound() {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Page not found</h1>
      <p>
        <Link href="/rules">Back to the rules</Link>
      </p>
    </section>
  );
}
