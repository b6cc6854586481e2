CREATE TABLE "agreements" (
	"id" text NOT NULL,
	"version" integer NOT NULL,
	"provider" text NOT NULL,
	"title" text NOT NULL,
	"document" jsonb NOT NULL,
	"envelope" jsonb NOT NULL,
	"payload_hash" text NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_until" timestamp with time zone NOT NULL,
	"review_by" date,
	"submitted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"submitted_by" text NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_by" text,
	"revocation_reason" text,
	"revocation" text,
	CONSTRAINT "agreements_id_version_pk" PRIMARY KEY("id","version")
);
--> statement-breakpoint
CREATE TABLE "audit_checkpoints" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"hash" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"kid" text NOT NULL,
	"jws" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"request_id" text NOT NULL,
	"actor_org" text,
	"actor_user" text,
	"actor_roles" jsonb NOT NULL,
	"purpose" text,
	"case_ref" text,
	"action" text NOT NULL,
	"owner_org" text,
	"record_type" text,
	"record_id" text,
	"nhs_number" text,
	"fields" jsonb NOT NULL,
	"agreements" jsonb NOT NULL,
	"outcome" text NOT NULL,
	"operation_name" text,
	"query_hash" text,
	"sensitivity" text,
	"details" jsonb,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_events_id_unique" UNIQUE("id")
);
--> statement-breakpoint
CREATE TABLE "demographics" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_org" text NOT NULL,
	"external_id" text NOT NULL,
	"nhs_number" text NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"given_name" text,
	"family_name" text,
	"date_of_birth" date,
	"postcode" text,
	"address_line" text
);
--> statement-breakpoint
CREATE TABLE "gp_registrations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_org" text NOT NULL,
	"external_id" text NOT NULL,
	"nhs_number" text NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"practice_ods_code" text,
	"practice_name" text,
	"registered_on" date
);
--> statement-breakpoint
CREATE TABLE "housing_tenancies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_org" text NOT NULL,
	"external_id" text NOT NULL,
	"nhs_number" text NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"tenancy_ref" text,
	"address_line" text,
	"postcode" text,
	"started_on" date,
	"ended_on" date,
	"rent_arrears" boolean
);
--> statement-breakpoint
CREATE TABLE "hub_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "hub_state" (
	"key" text PRIMARY KEY NOT NULL,
	"generation" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "organisation_keys" (
	"org_id" text NOT NULL,
	"kid" text NOT NULL,
	"jwk" jsonb NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone,
	CONSTRAINT "organisation_keys_org_id_kid_pk" PRIMARY KEY("org_id","kid")
);
--> statement-breakpoint
CREATE TABLE "organisations" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "police_notifications" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_org" text NOT NULL,
	"external_id" text NOT NULL,
	"nhs_number" text NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"reference" text,
	"kind" text,
	"occurred_on" date,
	"risk_level" text,
	"summary" text
);
--> statement-breakpoint
CREATE TABLE "school_enrolments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_org" text NOT NULL,
	"external_id" text NOT NULL,
	"nhs_number" text NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"school_urn" text,
	"school_name" text,
	"year_group" integer,
	"started_on" date,
	"attendance_percent" double precision,
	"exclusions_this_year" integer
);
--> statement-breakpoint
CREATE TABLE "social_care_cases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_org" text NOT NULL,
	"external_id" text NOT NULL,
	"nhs_number" text NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"case_ref" text,
	"service" text,
	"status" text,
	"category" text,
	"opened_on" date,
	"closed_on" date,
	"lead_worker" text,
	"summary" text
);
--> statement-breakpoint
CREATE TABLE "subjects" (
	"nhs_number" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "token_replays" (
	"iss" text NOT NULL,
	"jti" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "token_replays_iss_jti_pk" PRIMARY KEY("iss","jti")
);
--> statement-breakpoint
ALTER TABLE "agreements" ADD CONSTRAINT "agreements_provider_organisations_id_fk" FOREIGN KEY ("provider") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "demographics" ADD CONSTRAINT "demographics_owner_org_organisations_id_fk" FOREIGN KEY ("owner_org") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "demographics" ADD CONSTRAINT "demographics_nhs_number_subjects_nhs_number_fk" FOREIGN KEY ("nhs_number") REFERENCES "public"."subjects"("nhs_number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gp_registrations" ADD CONSTRAINT "gp_registrations_owner_org_organisations_id_fk" FOREIGN KEY ("owner_org") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gp_registrations" ADD CONSTRAINT "gp_registrations_nhs_number_subjects_nhs_number_fk" FOREIGN KEY ("nhs_number") REFERENCES "public"."subjects"("nhs_number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "housing_tenancies" ADD CONSTRAINT "housing_tenancies_owner_org_organisations_id_fk" FOREIGN KEY ("owner_org") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "housing_tenancies" ADD CONSTRAINT "housing_tenancies_nhs_number_subjects_nhs_number_fk" FOREIGN KEY ("nhs_number") REFERENCES "public"."subjects"("nhs_number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "organisation_keys" ADD CONSTRAINT "organisation_keys_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "police_notifications" ADD CONSTRAINT "police_notifications_owner_org_organisations_id_fk" FOREIGN KEY ("owner_org") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "police_notifications" ADD CONSTRAINT "police_notifications_nhs_number_subjects_nhs_number_fk" FOREIGN KEY ("nhs_number") REFERENCES "public"."subjects"("nhs_number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "school_enrolments" ADD CONSTRAINT "school_enrolments_owner_org_organisations_id_fk" FOREIGN KEY ("owner_org") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "school_enrolments" ADD CONSTRAINT "school_enrolments_nhs_number_subjects_nhs_number_fk" FOREIGN KEY ("nhs_number") REFERENCES "public"."subjects"("nhs_number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "social_care_cases" ADD CONSTRAINT "social_care_cases_owner_org_organisations_id_fk" FOREIGN KEY ("owner_org") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "social_care_cases" ADD CONSTRAINT "social_care_cases_nhs_number_subjects_nhs_number_fk" FOREIGN KEY ("nhs_number") REFERENCES "public"."subjects"("nhs_number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "agreements_provider_idx" ON "agreements" USING btree ("provider");--> statement-breakpoint
CREATE INDEX "audit_events_at_idx" ON "audit_events" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_events_subject_idx" ON "audit_events" USING btree ("nhs_number","seq");--> statement-breakpoint
CREATE INDEX "audit_events_actor_idx" ON "audit_events" USING btree ("actor_org","seq");--> statement-breakpoint
CREATE INDEX "audit_events_owner_idx" ON "audit_events" USING btree ("owner_org","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "demographics_owner_external_uq" ON "demographics" USING btree ("owner_org","external_id");--> statement-breakpoint
CREATE INDEX "demographics_subject_idx" ON "demographics" USING btree ("nhs_number","owner_org");--> statement-breakpoint
CREATE INDEX "demographics_owner_idx" ON "demographics" USING btree ("owner_org");--> statement-breakpoint
CREATE UNIQUE INDEX "gp_registrations_owner_external_uq" ON "gp_registrations" USING btree ("owner_org","external_id");--> statement-breakpoint
CREATE INDEX "gp_registrations_subject_idx" ON "gp_registrations" USING btree ("nhs_number","owner_org");--> statement-breakpoint
CREATE INDEX "gp_registrations_owner_idx" ON "gp_registrations" USING btree ("owner_org");--> statement-breakpoint
CREATE UNIQUE INDEX "housing_tenancies_owner_external_uq" ON "housing_tenancies" USING btree ("owner_org","external_id");--> statement-breakpoint
CREATE INDEX "housing_tenancies_subject_idx" ON "housing_tenancies" USING btree ("nhs_number","owner_org");--> statement-breakpoint
CREATE INDEX "housing_tenancies_owner_idx" ON "housing_tenancies" USING btree ("owner_org");--> statement-breakpoint
CREATE UNIQUE INDEX "police_notifications_owner_external_uq" ON "police_notifications" USING btree ("owner_org","external_id");--> statement-breakpoint
CREATE INDEX "police_notifications_subject_idx" ON "police_notifications" USING btree ("nhs_number","owner_org");--> statement-breakpoint
CREATE INDEX "police_notifications_owner_idx" ON "police_notifications" USING btree ("owner_org");--> statement-breakpoint
CREATE UNIQUE INDEX "school_enrolments_owner_external_uq" ON "school_enrolments" USING btree ("owner_org","external_id");--> statement-breakpoint
CREATE INDEX "school_enrolments_subject_idx" ON "school_enrolments" USING btree ("nhs_number","owner_org");--> statement-breakpoint
CREATE INDEX "school_enrolments_owner_idx" ON "school_enrolments" USING btree ("owner_org");--> statement-breakpoint
CREATE UNIQUE INDEX "social_care_cases_owner_external_uq" ON "social_care_cases" USING btree ("owner_org","external_id");--> statement-breakpoint
CREATE INDEX "social_care_cases_subject_idx" ON "social_care_cases" USING btree ("nhs_number","owner_org");--> statement-breakpoint
CREATE INDEX "social_care_cases_owner_idx" ON "social_care_cases" USING btree ("owner_org");--> statement-breakpoint
CREATE INDEX "token_replays_expires_idx" ON "token_replays" USING btree ("expires_at");