package telegramtest

func init() {
	handlers["setMyDescription"] = describe(DescriptionLong, "description")
	handlers["getMyDescription"] = readDescription(DescriptionLong, "description")
	handlers["setMyShortDescription"] = describe(DescriptionShort, "short_description")
	handlers["getMyShortDescription"] = readDescription(DescriptionShort, "short_description")
}

// The two texts a bot describes itself with: the description shown in an
// empty chat with the bot, and the short one on its profile page and in
// shared links.
const (
	DescriptionLong  = "description"
	DescriptionShort = "short_description"
)

func descriptionKey(kind, lang string) string { return kind + "|" + lang }

// describe sets a description for a language ("" for users without a
// dedicated one); an empty text removes it. Lengths are checked against
// the API table before the handler runs.
func describe(kind, param string) handlerFunc {
	return func(s *Server, c *call) (reply, error) {
		text, lang := c.str(param), c.str("language_code")
		s.mu.Lock()
		defer s.mu.Unlock()
		if text == "" {
			delete(s.st.descriptions, descriptionKey(kind, lang))
		} else {
			s.st.descriptions[descriptionKey(kind, lang)] = text
		}
		s.bumpLocked()
		return reply{result: true}, nil
	}
}

// readDescription answers a BotDescription or BotShortDescription: the
// language's own text, else the one without a language, as Telegram
// does.
func readDescription(kind, param string) handlerFunc {
	return func(s *Server, c *call) (reply, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		text, ok := s.st.descriptions[descriptionKey(kind, c.str("language_code"))]
		if !ok {
			text = s.st.descriptions[descriptionKey(kind, "")]
		}
		return reply{result: map[string]string{param: text}}, nil
	}
}

// Description returns the description of kind (DescriptionLong or
// DescriptionShort) the bot set for languageCode ("" for the default).
func (s *Server) Description(kind, languageCode string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.descriptions[descriptionKey(kind, languageCode)]
}
