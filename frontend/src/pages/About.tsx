import { useEffect } from "react";
import { useLocation } from "react-router-dom";
import { Disclaimer } from "../components/Disclaimer";
import { usePageTitle } from "../lib/usePageTitle";

export function About() {
  usePageTitle("About");
  const { hash } = useLocation();
  useEffect(() => {
    if (hash) document.getElementById(hash.slice(1))?.scrollIntoView?.();
  }, [hash]);
  return (
    <div className="container page page--narrow prose">
      <h1>About Bloomwell</h1>
      <p className="lead">
        Bloomwell is a preliminary screening aid. It turns a short video of a face into an emotion timeline and a few plain
        observations that can help start a conversation — with yourself, or with a professional.
      </p>

      <h2>What the analysis is</h2>
      <p>
        We sample frames from your video (five per second by default), find the face in each one and run an expression
        recognition model on it. The model gives a probability for each of seven expressions — angry, disgust, fear, happy,
        neutral, sad and surprise. The report shows these probabilities over time and summarises them.
      </p>

      <h2>The model, in plain words</h2>
      <p>
        Since version 3.0.0 the expression reading is done by three small models that vote together: our own model, trained
        on a public collection of small face photos from the internet (FER2013), and two freely licensed models from other
        projects, one of which learned from more varied faces. Each face is read by all three and their answers are
        averaged. Together they notice posed anger and disgust more often than our model did alone, and the
        percentages in your report are honest: when the report says 70 %, about seven such readings in ten are right on our
        test faces.
      </p>
      <p>
        They still make mistakes. On our test photos roughly one face in three is read wrong, subtle or brief expressions are
        often read as neutral, and &quot;disgust&quot; and &quot;fear&quot; are the least reliable. The test collections
        are research data sets of mostly adult faces whose make-up is not fully documented, so we do not know how well it
        works for children, older people or every skin tone.
      </p>

      <h2>What it is not</h2>
      <p>
        Facial expressions are not feelings. People express emotions differently, lighting and camera angles matter, and
        models trained on public data sets make mistakes and can be less accurate for some groups of people. Bloomwell cannot
        tell you whether you have a health condition and does not replace a conversation with a professional.
      </p>

      <h2 id="privacy">Privacy</h2>
      <ul>
        <li>Your uploaded or recorded video is deleted as soon as processing finishes.</li>
        <li>We store the results (the numbers in your report) and a small number of face thumbnails.</li>
        <li>Your analyses are visible only to you. You can delete each one, or your whole account with everything in it.</li>
        <li>Your session ends when you close the browser tab or log out.</li>
      </ul>

      <h2 id="support">If you are struggling</h2>
      <p>
        Please reach out to someone: your doctor, a counsellor, or a trusted person. If you are in immediate danger or thinking
        about harming yourself, call your local emergency number. Many countries have free, confidential crisis lines that you
        can call or text at any hour.
      </p>
      <h3>Find a crisis line near you</h3>
      <ul className="help-links" data-testid="crisis-resources">
        <li>
          <a href="https://findahelpline.com" rel="noopener noreferrer">
            Find A Helpline
          </a>{" "}
          — free, confidential helplines in more than 130 countries, searchable by country and topic.
        </li>
        <li>
          <a href="https://www.iasp.info/crisis-centres-helplines/" rel="noopener noreferrer">
            IASP crisis centres and helplines
          </a>{" "}
          — the International Association for Suicide Prevention's list of crisis centres around the world.
        </li>
        <li>
          <a href="https://www.who.int/health-topics/mental-health" rel="noopener noreferrer">
            World Health Organization: mental health
          </a>{" "}
          — plain information on mental health and where to get support.
        </li>
      </ul>
      <p>In an emergency, call your local emergency number (for example 112 in Europe, 911 in North America).</p>
      <Disclaimer />
    </div>
  );
}
