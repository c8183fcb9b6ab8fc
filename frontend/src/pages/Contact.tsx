import { Disclaimer } from "../components/Disclaimer";
import { usePageTitle } from "../lib/usePageTitle";

export function Contact() {
  usePageTitle("Contact");
  return (
    <div className="container page page--narrow prose">
      <h1>Contact</h1>
      <p className="lead">Questions about Bloomwell, your data or a report? We're happy to help.</p>
      <div className="card-grid">
        <div className="card">
          <h2 className="card__title">General questions</h2>
          <p>
            <a href="mailto:hello@bloomwell.example">hello@bloomwell.example</a>
          </p>
          <p className="muted small">We usually answer within two working days.</p>
        </div>
        <div className="card">
          <h2 className="card__title">Privacy and your data</h2>
          <p>
            <a href="mailto:privacy@bloomwell.example">privacy@bloomwell.example</a>
          </p>
          <p className="muted small">You can also delete analyses or your account yourself at any time.</p>
        </div>
      </div>
      <p>
        We can't give medical advice by e-mail. If you need support now, please contact a health professional or your local
        emergency number.
      </p>
      <Disclaimer compact />
    </div>
  );
}
