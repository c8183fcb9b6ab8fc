import { Link, useLocation } from "react-router-dom";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "../components/Alert";
import { Disclaimer } from "../components/Disclaimer";
import { EMOTIONS, EMOTION_COLORS, EMOTION_LABELS } from "../domain/emotions";
import { usePageTitle } from "../lib/usePageTitle";

export function Home() {
  usePageTitle(null);
  const { state } = useAuth();
  const signedIn = state === "signed-in";
  const flash = (useLocation().state as { flash?: string } | null)?.flash;
  return (
    <>
      {flash && (
        <div className="container flash">
          <Alert tone="success" testId="home-notice">
            {flash}
          </Alert>
        </div>
      )}
      <section className="hero">
        <div className="container hero__inner">
          <div className="hero__text">
            <p className="eyebrow">Emotion timeline · wellbeing observations</p>
            <h1>A gentle look at the expressions in a short video of you.</h1>
            <p className="lead">
              Record 5 to 30 seconds with your webcam or upload a clip. Bloomwell follows your facial expressions moment by
              moment and gives you a clear, private report you can keep or share with a professional.
            </p>
            <div className="hero__actions">
              {signedIn ? (
                <Link to="/new" className="btn btn--primary btn--large">
                  Start a new analysis
                </Link>
              ) : (
                <>
                  <Link to="/signup" className="btn btn--primary btn--large">
                    Create a free account
                  </Link>
                  <Link to="/login" className="btn btn--ghost btn--large">
                    Log in
                  </Link>
                </>
              )}
            </div>
          </div>
          <div className="hero__art" aria-hidden="true">
            <div className="hero-card">
              <div className="hero-card__head">
                <span className="dot" />
                <span>Expression timeline</span>
              </div>
              <svg viewBox="0 0 300 120" className="hero-card__chart">
                <polyline points="0,90 30,80 60,85 90,50 120,40 150,45 180,70 210,75 240,60 270,55 300,58" fill="none" stroke={EMOTION_COLORS.happy} strokeWidth="3" strokeLinejoin="round" />
                <polyline points="0,40 30,45 60,42 90,70 120,85 150,80 180,55 210,50 240,62 270,70 300,66" fill="none" stroke={EMOTION_COLORS.neutral} strokeWidth="3" strokeLinejoin="round" />
                <polyline points="0,100 30,98 60,96 90,100 120,104 150,102 180,96 210,98 240,100 270,101 300,99" fill="none" stroke={EMOTION_COLORS.sad} strokeWidth="3" strokeLinejoin="round" />
              </svg>
              <div className="legend">
                {EMOTIONS.map((e) => (
                  <span key={e} className="legend__item">
                    <span className="legend__swatch" style={{ background: EMOTION_COLORS[e] }} />
                    {EMOTION_LABELS[e]}
                  </span>
                ))}
              </div>
            </div>
          </div>
        </div>
      </section>

      <section className="section" aria-labelledby="what">
        <div className="container">
          <h2 id="what">What Bloomwell does</h2>
          <p className="section__intro">
            A computer model looks at your face in each sampled frame and estimates how likely each of seven basic expressions
            is: angry, disgust, fear, happy, neutral, sad and surprise. From that timeline Bloomwell derives a few simple
            observations, such as how much of the time negative expressions were the most likely ones and how varied your
            expressions were.
          </p>
        </div>
      </section>

      <section className="section section--alt" aria-labelledby="how">
        <div className="container">
          <h2 id="how">How it works</h2>
          <ol className="steps">
            <li className="step">
              <span className="step__num" aria-hidden="true">
                1
              </span>
              <h3>Record or upload</h3>
              <p>Record 5–30 seconds with your webcam, or upload a short video you already have. Sit facing the light.</p>
            </li>
            <li className="step">
              <span className="step__num" aria-hidden="true">
                2
              </span>
              <h3>Analysis</h3>
              <p>We find your face in the video and estimate the expression in each sampled frame. You can watch the progress live.</p>
            </li>
            <li className="step">
              <span className="step__num" aria-hidden="true">
                3
              </span>
              <h3>Your report</h3>
              <p>See the dominant expression, how expressions changed over time and a few observations. Export it as JSON or CSV.</p>
            </li>
          </ol>
        </div>
      </section>

      <section className="section" aria-labelledby="privacy">
        <div className="container two-col">
          <div>
            <h2 id="privacy">Your privacy</h2>
            <ul className="checklist">
              <li>Your video is deleted as soon as it has been analysed.</li>
              <li>We keep only the results and a few small face thumbnails so you can check what the model looked at.</li>
              <li>Only you can see your analyses. Delete any of them, or your whole account, at any time.</li>
              <li>No advertising, no selling of data.</li>
            </ul>
          </div>
          <Disclaimer />
        </div>
      </section>
    </>
  );
}
