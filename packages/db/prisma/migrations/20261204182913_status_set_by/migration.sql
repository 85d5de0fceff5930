-- AlterTable
ALTER TABLE "customers" ADD COLUMN     "status_set_by" "user_role";

-- AlterTable
ALTER TABLE "subscribers" ADD COLUMN     "status_set_by" "user_role";

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "disabled_by" "user_role";
