import { Route, Routes } from "react-router-dom";
import { RequireAuth } from "./components/RequireAuth";
import { Layout } from "./components/Layout";
import { ReportSkeleton } from "./components/ReportSkeleton";
import { About } from "./pages/About";
import { Account } from "./pages/Account";
import { AnalysisPage } from "./pages/AnalysisPage";
import { Contact } from "./pages/Contact";
import { History } from "./pages/History";
import { Home } from "./pages/Home";
import { Login } from "./pages/Login";
import { NewAnalysis } from "./pages/NewAnalysis";
import { NotFound } from "./pages/NotFound";
import { Signup } from "./pages/Signup";

export function AppRoutes() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Home />} />
        <Route path="about" element={<About />} />
        <Route path="contact" element={<Contact />} />
        <Route path="login" element={<Login />} />
        <Route path="signup" element={<Signup />} />
        <Route
          path="new"
          element={
            <RequireAuth>
              <NewAnalysis />
            </RequireAuth>
          }
        />
        <Route
          path="history"
          element={
            <RequireAuth>
              <History />
            </RequireAuth>
          }
        />
        <Route
          path="analyses/:id"
          element={
            <RequireAuth fallback={<ReportSkeleton withHead label="Restoring your session…" />}>
              <AnalysisPage />
            </RequireAuth>
          }
        />
        <Route
          path="account"
          element={
            <RequireAuth>
              <Account />
            </RequireAuth>
          }
        />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
