import { useEffect, useRef, useState } from "react";
import { Link, NavLink, Outlet, useLocation, useNavigate } from "react-router-dom";
import { useAuth } from "../auth/AuthContext";
import { focusWhenReady } from "../lib/focus";
import { Logo } from "./Logo";

export function Layout() {
  const { state, user, logout } = useAuth();
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  const navigate = useNavigate();

  // A new route closes the menu (state adjusted while rendering, not in an effect).
  const [menuPath, setMenuPath] = useState(location.pathname);
  if (menuPath !== location.pathname) {
    setMenuPath(location.pathname);
    setMenuOpen(false);
  }

  // Escape closes the open menu and hands focus back to its button.
  const toggleRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape" || e.defaultPrevented) return;
      setMenuOpen(false);
      toggleRef.current?.focus();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [menuOpen]);

  // Move focus to the page heading on navigation (not on the first load) so screen-reader and
  // keyboard users land on the new page.
  const firstRender = useRef(true);
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    window.scrollTo?.(0, 0);
    // The new page may show its heading only after loading (the analysis page, a redirect after sign-up): wait for it.
    return focusWhenReady("main h1");
  }, [location.pathname]);

  const signedIn = state === "signed-in";
  const onLogout = () => {
    // Leave the current (possibly protected) page first, so the sign-in guard doesn't send us to the login form.
    navigate("/", { replace: true });
    void logout();
  };

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="container site-header__inner">
          <Link to="/" className="brand" aria-label="Bloomwell home">
            <Logo />
            <span className="brand__name">Bloomwell</span>
          </Link>
          <button
            ref={toggleRef}
            type="button"
            className="nav-toggle"
            aria-expanded={menuOpen}
            aria-controls="site-nav"
            onClick={() => setMenuOpen((v) => !v)}
          >
            <span className="nav-toggle__bars" aria-hidden="true" />
            <span className="sr-only">{menuOpen ? "Close menu" : "Open menu"}</span>
          </button>
          <nav id="site-nav" className={`site-nav${menuOpen ? " site-nav--open" : ""}`} aria-label="Main">
            <ul>
              {signedIn ? (
                <>
                  <li>
                    <NavLink to="/new">New analysis</NavLink>
                  </li>
                  <li>
                    <NavLink to="/history">History</NavLink>
                  </li>
                  <li>
                    <NavLink to="/about">About</NavLink>
                  </li>
                  <li>
                    <NavLink to="/account" title={user?.email}>
                      Account
                    </NavLink>
                  </li>
                  <li>
                    <button type="button" className="btn btn--ghost btn--small" onClick={onLogout}>
                      Log out
                    </button>
                  </li>
                </>
              ) : (
                <>
                  <li>
                    <NavLink to="/about">About</NavLink>
                  </li>
                  <li>
                    <NavLink to="/contact">Contact</NavLink>
                  </li>
                  <li>
                    <NavLink to="/login">Log in</NavLink>
                  </li>
                  <li>
                    <Link to="/signup" className="btn btn--primary btn--small">
                      Sign up
                    </Link>
                  </li>
                </>
              )}
            </ul>
          </nav>
        </div>
      </header>
      <main id="main" className="site-main">
        <Outlet />
      </main>
      <footer className="site-footer">
        <div className="container site-footer__inner">
          <div>
            <div className="brand brand--footer">
              <Logo size={22} />
              <span className="brand__name">Bloomwell</span>
            </div>
            <p className="muted small">
              A screening aid that describes facial expressions. Not a medical device and not a diagnosis.
            </p>
          </div>
          <nav aria-label="Footer">
            <ul className="footer-links">
              <li>
                <Link to="/">Home</Link>
              </li>
              <li>
                <Link to="/about">About</Link>
              </li>
              <li>
                <Link to="/about#privacy">Privacy</Link>
              </li>
              <li>
                <Link to="/contact">Contact</Link>
              </li>
            </ul>
          </nav>
        </div>
      </footer>
    </div>
  );
}
