"""The multilingual bench's test set: 30 facts a person might tell Cubby, in English, each with a
question that should find it asked in English, German, French and Spanish. The questions are worded
the way a person asks (not translations of the fact), so a match needs meaning, not shared words."""

from __future__ import annotations

# (fact, {language: question})
PAIRS: list[tuple[str, dict[str, str]]] = [
    ("I am allergic to peanuts", {
        "en": "What food am I allergic to?",
        "de": "Gegen welches Essen bin ich allergisch?",
        "fr": "À quel aliment suis-je allergique ?",
        "es": "¿A qué alimento soy alérgico?",
    }),
    ("My daughter is called Emma", {
        "en": "What is my daughter's name?",
        "de": "Wie heißt meine Tochter?",
        "fr": "Comment s'appelle ma fille ?",
        "es": "¿Cómo se llama mi hija?",
    }),
    ("I drive a blue Volvo", {
        "en": "Which car do I have?",
        "de": "Welches Auto fahre ich?",
        "fr": "Quelle voiture est-ce que je conduis ?",
        "es": "¿Qué coche conduzco?",
    }),
    ("My flight to Oslo leaves on Friday", {
        "en": "When do I fly to Oslo?",
        "de": "Wann geht mein Flug nach Oslo?",
        "fr": "Quand part mon vol pour Oslo ?",
        "es": "¿Cuándo sale mi vuelo a Oslo?",
    }),
    ("I am vegetarian", {
        "en": "Do I eat meat?",
        "de": "Esse ich Fleisch?",
        "fr": "Est-ce que je mange de la viande ?",
        "es": "¿Como carne?",
    }),
    ("My dentist appointment is on March 3rd", {
        "en": "When do I see the dentist?",
        "de": "Wann habe ich einen Zahnarzttermin?",
        "fr": "Quand est mon rendez-vous chez le dentiste ?",
        "es": "¿Cuándo tengo cita con el dentista?",
    }),
    ("I prefer a window seat on planes", {
        "en": "Where do I like to sit when flying?",
        "de": "Wo sitze ich am liebsten im Flugzeug?",
        "fr": "Où est-ce que je préfère m'asseoir dans l'avion ?",
        "es": "¿Dónde prefiero sentarme en el avión?",
    }),
    ("My wife's birthday is on June 12th", {
        "en": "When is my wife's birthday?",
        "de": "Wann hat meine Frau Geburtstag?",
        "fr": "Quand est l'anniversaire de ma femme ?",
        "es": "¿Cuándo es el cumpleaños de mi esposa?",
    }),
    ("I play the cello in an amateur orchestra", {
        "en": "Which instrument do I play?",
        "de": "Welches Instrument spiele ich?",
        "fr": "De quel instrument est-ce que je joue ?",
        "es": "¿Qué instrumento toco?",
    }),
    ("My dog is a golden retriever named Max", {
        "en": "What kind of dog do I have?",
        "de": "Was für einen Hund habe ich?",
        "fr": "Quel genre de chien est-ce que j'ai ?",
        "es": "¿Qué tipo de perro tengo?",
    }),
    ("I work as a nurse at the city hospital", {
        "en": "What is my job?",
        "de": "Was ist mein Beruf?",
        "fr": "Quel est mon métier ?",
        "es": "¿En qué trabajo?",
    }),
    ("I am learning Japanese", {
        "en": "Which language am I studying?",
        "de": "Welche Sprache lerne ich gerade?",
        "fr": "Quelle langue est-ce que j'apprends ?",
        "es": "¿Qué idioma estoy aprendiendo?",
    }),
    ("My favourite colour is green", {
        "en": "What colour do I like best?",
        "de": "Was ist meine Lieblingsfarbe?",
        "fr": "Quelle est ma couleur préférée ?",
        "es": "¿Cuál es mi color favorito?",
    }),
    ("I live in Lisbon", {
        "en": "Which city do I live in?",
        "de": "In welcher Stadt wohne ich?",
        "fr": "Dans quelle ville est-ce que j'habite ?",
        "es": "¿En qué ciudad vivo?",
    }),
    ("I take my coffee black without sugar", {
        "en": "How do I drink my coffee?",
        "de": "Wie trinke ich meinen Kaffee?",
        "fr": "Comment est-ce que je bois mon café ?",
        "es": "¿Cómo tomo el café?",
    }),
    ("My son plays football every Saturday", {
        "en": "What sport does my son do?",
        "de": "Welchen Sport macht mein Sohn?",
        "fr": "Quel sport fait mon fils ?",
        "es": "¿Qué deporte practica mi hijo?",
    }),
    ("I am afraid of heights", {
        "en": "What am I scared of?",
        "de": "Wovor habe ich Angst?",
        "fr": "De quoi est-ce que j'ai peur ?",
        "es": "¿A qué le tengo miedo?",
    }),
    ("My passport expires in 2028", {
        "en": "When does my passport run out?",
        "de": "Wann läuft mein Reisepass ab?",
        "fr": "Quand mon passeport expire-t-il ?",
        "es": "¿Cuándo caduca mi pasaporte?",
    }),
    ("I run a marathon every spring", {
        "en": "Which race do I do each year?",
        "de": "Welchen Lauf mache ich jedes Jahr?",
        "fr": "Quelle course est-ce que je fais chaque année ?",
        "es": "¿Qué carrera corro cada año?",
    }),
    ("My landlord's phone number is in my notebook", {
        "en": "Where did I write down the landlord's number?",
        "de": "Wo habe ich die Nummer meines Vermieters notiert?",
        "fr": "Où ai-je noté le numéro de mon propriétaire ?",
        "es": "¿Dónde apunté el número de mi casero?",
    }),
    ("I can't drink milk because I am lactose intolerant", {
        "en": "Why should I avoid dairy?",
        "de": "Warum vertrage ich keine Milchprodukte?",
        "fr": "Pourquoi est-ce que j'évite les produits laitiers ?",
        "es": "¿Por qué evito los lácteos?",
    }),
    ("My grandmother grew up in Naples", {
        "en": "Where is my grandmother from?",
        "de": "Woher kommt meine Großmutter?",
        "fr": "D'où vient ma grand-mère ?",
        "es": "¿De dónde es mi abuela?",
    }),
    ("I am saving money for a new bicycle", {
        "en": "What am I saving up for?",
        "de": "Wofür spare ich Geld?",
        "fr": "Pour quoi est-ce que j'économise ?",
        "es": "¿Para qué estoy ahorrando?",
    }),
    ("My favourite book is One Hundred Years of Solitude", {
        "en": "Which novel do I love most?",
        "de": "Welcher Roman ist mein Lieblingsbuch?",
        "fr": "Quel est mon roman préféré ?",
        "es": "¿Cuál es mi novela favorita?",
    }),
    ("I have a meeting with the bank next Tuesday", {
        "en": "When is my appointment at the bank?",
        "de": "Wann habe ich einen Termin bei der Bank?",
        "fr": "Quand ai-je rendez-vous à la banque ?",
        "es": "¿Cuándo tengo la reunión con el banco?",
    }),
    ("I wear glasses for reading", {
        "en": "Do I need glasses?",
        "de": "Brauche ich eine Brille?",
        "fr": "Est-ce que j'ai besoin de lunettes ?",
        "es": "¿Necesito gafas?",
    }),
    ("My brother lives in Canada", {
        "en": "Which country does my brother live in?",
        "de": "In welchem Land wohnt mein Bruder?",
        "fr": "Dans quel pays vit mon frère ?",
        "es": "¿En qué país vive mi hermano?",
    }),
    ("I go swimming before work on Mondays", {
        "en": "What do I do on Monday mornings?",
        "de": "Was mache ich montags vor der Arbeit?",
        "fr": "Qu'est-ce que je fais le lundi matin ?",
        "es": "¿Qué hago los lunes por la mañana?",
    }),
    ("My wifi password is taped under the router", {
        "en": "Where can I find the wifi password?",
        "de": "Wo finde ich das WLAN-Passwort?",
        "fr": "Où se trouve le mot de passe du wifi ?",
        "es": "¿Dónde está la contraseña del wifi?",
    }),
    ("I am planning a trip to Peru in October", {
        "en": "Where am I travelling in the autumn?",
        "de": "Wohin reise ich im Herbst?",
        "fr": "Où est-ce que je voyage cet automne ?",
        "es": "¿A dónde viajo en otoño?",
    }),
]  # fmt: skip

LANGUAGES = ("en", "de", "fr", "es")
