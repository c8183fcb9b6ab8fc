import { Link } from "react-router-dom";
import { usePageTitle } from "../lib/usePageTitle";

export function NotFound() {
  usePageTitle("Page not found");
  return (
    <div className="container page page--narrow empty-state">
      <h1>Page not found</h1>
      <p>The page you were looking for doesn't exist or has moved.</p>
      <Link to="/" className="btn btn--primary">
        Go to the home page
      </Link>
    </div>
  );
}
